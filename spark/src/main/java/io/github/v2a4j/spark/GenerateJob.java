package io.github.v2a4j.spark;

import io.github.v2a4j.pipeline.Defaults;
import java.io.PrintStream;
import java.nio.file.Files;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The Spark job: adds a generated sound track to every video of a manifest. Each executor JVM opens the model once
 * and runs one clip at a time on all its cores; outputs that exist are skipped, a bad row fails alone, and the job
 * writes a results table and prints a summary.
 */
@Command(name = "v2a-spark", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
            "Adds generated sound to every video of a manifest on a Spark cluster (or in local mode), one v2a4j model "
                    + "per executor JVM.",
            "Outputs are written to a temporary name and renamed; existing outputs are skipped, so a rerun does only "
                    + "the rest. A row that fails is reported in the results with its reason and the job goes on."},
        footer = {"", "Example (local mode, no Spark installation):",
            "  ./v2a-spark --master local[2] --manifest clips.csv --model assets/demo-model --results results/"})
public final class GenerateJob implements Callable<Integer> {

    @Option(names = "--master", paramLabel = "URL",
            description = "Spark master, e.g. local[2] (default: what spark-submit gives).")
    String master;

    @Option(names = "--manifest", required = true, paramLabel = "URI",
            description = "CSV (header row), JSON Lines or Parquet with columns video, out, prompt, negative_prompt, "
                    + "seed, max_duration (video required; relative paths are relative to the manifest).")
    String manifest;

    @Option(names = "--format", paramLabel = "csv|jsonl|parquet",
            description = "Manifest format (default: from its name).")
    String format;

    @Option(names = "--model", required = true, paramLabel = "DIR",
            description = "Model directory made by 'v2a convert', readable on every executor: a local path on shared "
                    + "storage, or the name given to --archives (model.tar.gz#NAME).")
    String model;

    @Option(names = "--results", required = true, paramLabel = "URI",
            description = "Results table location; each run adds a Parquet folder run=<time>-<application id>.")
    String results;

    @Option(names = "--out-dir", paramLabel = "URI",
            description = "Output folder for rows without 'out' (<video name>.v2a.mp4).")
    String outDir;

    @Option(names = "--steps", defaultValue = "" + Defaults.STEPS, description = "Denoising steps (default: ${DEFAULT-VALUE}).")
    int steps;

    @Option(names = "--guidance", defaultValue = "" + Defaults.GUIDANCE,
            description = "Classifier-free guidance scale, > 1 (default: ${DEFAULT-VALUE}).")
    float guidance;

    @Option(names = "--partitions", paramLabel = "N",
            description = "Tasks to split the rows into (default: one per row, so that free executors take the next "
                    + "clip).")
    Integer partitions;

    @Option(names = "--verbose", description = "Print stack traces of errors.")
    boolean verbose;

    private final PrintStream out = System.out;
    private final PrintStream err = System.err;

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs the job and returns its exit status: 0 when it ran (failed rows are in the results), 1 on an error. */
    public static int execute(String... args) {
        CommandLine cl = new CommandLine(new GenerateJob());
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            cmd.getErr().println("v2a-spark: error: " + oneLine(ex));
            if (parsed.originalArgs().contains("--verbose")) ex.printStackTrace(cmd.getErr());
            cmd.getErr().flush();
            return 1;
        });
        return cl.execute(args);
    }

    @Override
    public Integer call() throws Exception {
        if (steps < 1) throw new IllegalArgumentException("--steps must be at least 1, got " + steps);
        if (!(guidance > 1f)) throw new IllegalArgumentException("--guidance must be > 1, got " + guidance);
        if (partitions != null && partitions < 1) throw new IllegalArgumentException("--partitions must be >= 1");
        SparkConf conf = new SparkConf(); // spark-submit's settings arrive as spark.* system properties
        if (master != null) conf.setMaster(master);
        if (!conf.contains("spark.master")) {
            throw new IllegalArgumentException("no Spark master: run with spark-submit, or give --master local[N]");
        }
        conf.setIfMissing("spark.app.name", "v2a4j generate");
        boolean local = SparkSettings.localCores(conf.get("spark.master")) != null;
        if (local && !Files.isDirectory(java.nio.file.Path.of(model))) {
            throw new IllegalArgumentException("--model " + model + ": no such directory");
        }
        for (String w : SparkSettings.apply(conf)) err.println("v2a-spark: warning: " + w);

        SparkSession spark = SparkSession.builder().config(conf).getOrCreate();
        try {
            Results.Summary summary = run(spark);
            summary.lines().forEach(out::println);
            return 0;
        } finally {
            spark.stop();
        }
    }

    private Results.Summary run(SparkSession spark) throws Exception {
        long t0 = System.nanoTime();
        HadoopFiles files = new HadoopFiles(spark.sparkContext().hadoopConfiguration());
        Path resultsRoot = new Path(results);
        FileSystem rfs = files.fs(resultsRoot);
        String runId = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").format(ZonedDateTime.now(ZoneOffset.UTC))
                + "-" + spark.sparkContext().applicationId();
        Path runDir = rfs.makeQualified(new Path(resultsRoot, "run=" + runId));
        if (rfs.exists(runDir)) throw new IllegalArgumentException(runDir + ": already exists");

        List<Item> items = Manifest.read(spark, files, manifest, format,
                new Manifest.Settings(outDir, steps, guidance));
        List<Item> pending = new ArrayList<>();
        List<Row> rejected = new ArrayList<>();
        for (Item i : items) {
            if (i.rejected() == null) pending.add(i);
            else rejected.add(ItemProcessor.rejected(i));
        }
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        int slices = partitions != null ? partitions : Math.max(1, pending.size());
        JavaRDD<Row> rows = jsc.parallelize(pending, slices).mapPartitions(new ItemProcessor(files, model))
                .union(jsc.parallelize(rejected, 1))
                // a few Parquet files rather than one per clip; the shuffle carries only the small results rows
                .repartition(Math.max(1, (items.size() + 9_999) / 10_000));
        spark.sparkContext().setJobDescription("v2a4j: " + pending.size() + " clips");
        // the only action on the rows: the clips are generated once, while writing
        spark.createDataFrame(rows, Results.SCHEMA).write().parquet(runDir.toString());
        double seconds = (System.nanoTime() - t0) / 1e9;
        return Results.Summary.of(spark.read().parquet(runDir.toString()), seconds, runDir.toString());
    }

    /**
     * The message a user sees: the exception's own, or its type when it has none; its first line only (Spark puts
     * the executor's stack trace into the message of a failed job).
     */
    static String oneLine(Throwable ex) {
        Throwable t = ex;
        while (t.getMessage() == null && t.getCause() != null) t = t.getCause();
        String msg = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage().strip();
        int nl = msg.indexOf('\n');
        return (nl < 0 ? msg : msg.substring(0, nl)).replaceAll("\\s+", " ").strip();
    }

    /** The innermost cause: what went wrong, below the layers that report it. */
    static Throwable rootCause(Throwable ex) {
        Throwable t = ex;
        while (t.getCause() != null && t.getCause() != t) t = t.getCause();
        return t;
    }
}
