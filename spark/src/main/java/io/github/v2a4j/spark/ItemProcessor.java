package io.github.v2a4j.spark;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.SparkEnv;
import org.apache.spark.SparkFiles;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.sql.Row;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs on the executors: for each row, skip it if its output exists, else copy the video to a local temporary file
 * (FFmpeg reads local files), generate on the executor's model, and publish the output atomically. A row that fails
 * becomes a results row with its reason; the task goes on with the next.
 */
final class ItemProcessor implements FlatMapFunction<Iterator<Item>, Row> {

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(ItemProcessor.class);

    private final HadoopFiles files;
    private final String model;

    ItemProcessor(HadoopFiles files, String model) {
        this.files = files;
        this.model = model;
    }

    @Override
    public Iterator<Row> call(Iterator<Item> items) {
        List<Row> out = new ArrayList<>();
        while (items.hasNext()) out.add(process(items.next()));
        return out.iterator();
    }

    /** A row the driver rejected, as a results row. */
    static Row rejected(Item item) {
        return Results.row(item, Results.FAILED, item.rejected(), Map.of(), 0, null, "driver");
    }

    Row process(Item item) {
        long t0 = System.nanoTime();
        Map<String, Double> stages = new LinkedHashMap<>();
        java.nio.file.Path work = null;
        java.nio.file.Path localIn = null;
        java.nio.file.Path localOut = null;
        try {
            Path in = new Path(item.video());
            Path out = new Path(item.out());
            FileSystem outFs = files.fs(out);
            if (outFs.exists(out)) {
                FileStatus st = outFs.getFileStatus(out);
                if (st.isDirectory()) throw new IOException(out + ": output is a directory");
                return Results.row(item, Results.SKIPPED, null, stages, seconds(t0), null, executor());
            }
            work = Files.createTempDirectory("v2a-item-");
            localIn = Files.createDirectory(work.resolve("in")).resolve(in.getName());
            localOut = Files.createDirectory(work.resolve("out")).resolve(out.getName());

            long c0 = System.nanoTime();
            files.copyToLocal(in, localIn);
            stages.put("copy_in", seconds(c0));

            ClipGenerator.Result r = ExecutorModels.generate(modelDir(), localIn, localOut, item.options());
            stages.putAll(r.stageSeconds());

            long p0 = System.nanoTime();
            boolean published = files.publish(localOut, out);
            stages.put("copy_out", seconds(p0));
            String status = published ? Results.DONE : Results.SKIPPED;
            LOG.info("row {}: {} {} -> {} in {} s", item.row(), status, in, out, String.format("%.1f", seconds(t0)));
            return Results.row(item, status, null, stages, seconds(t0), r.audioSeconds(), executor());
        } catch (Exception e) {
            String why = GenerateJob.oneLine(e);
            // messages name the local copies; the user knows the rows by their URIs
            if (localIn != null) why = why.replace(localIn.toString(), item.video());
            if (localOut != null) why = why.replace(localOut.toString(), item.out());
            LOG.warn("row {}: failed {}: {}", item.row(), item.video(), why);
            return Results.row(item, Results.FAILED, why, stages, seconds(t0), null, executor());
        } finally {
            if (work != null) deleteTree(work);
        }
    }

    /**
     * The model folder on this executor: the path as given (shared storage, or the same folder on every node), else
     * a folder Spark shipped with {@code --archives model.tar.gz#NAME} or {@code --files}.
     */
    private java.nio.file.Path modelDir() {
        java.nio.file.Path p = java.nio.file.Path.of(model);
        if (!p.isAbsolute() && !Files.exists(p)) {
            java.nio.file.Path shipped = java.nio.file.Path.of(SparkFiles.get(model));
            if (Files.exists(shipped)) return shipped;
        }
        return p;
    }

    private static double seconds(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }

    /** The executor's id and host, as Spark's UI names them ("driver" in local mode). */
    private static String executor() {
        SparkEnv env = SparkEnv.get();
        return (env == null ? "none" : env.executorId()) + "@" + Host.NAME;
    }

    /** Looked up once per JVM: a host name lookup can wait on DNS. */
    private static final class Host {
        static final String NAME = lookUp();

        private static String lookUp() {
            try {
                return InetAddress.getLocalHost().getHostName();
            } catch (IOException e) {
                return "unknown-host";
            }
        }
    }

    private static void deleteTree(java.nio.file.Path dir) {
        try (Stream<java.nio.file.Path> s = Files.walk(dir)) {
            for (java.nio.file.Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        } catch (IOException e) {
            // the row's outcome stands; a left-over folder under java.io.tmpdir is only noted
            LOG.warn("cannot delete the temporary folder {}: {}", dir, e.toString());
        }
    }
}
