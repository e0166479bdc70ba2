package io.github.v2a4j.spark;

import io.github.v2a4j.pipeline.Defaults;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * The job's input: a table with one row per video, as CSV (with a header row), JSON Lines or Parquet. Columns:
 * {@code video} (required), {@code out} (required unless {@code --out-dir} is given), {@code prompt},
 * {@code negative_prompt}, {@code seed}, {@code max_duration}. A relative path is relative to the manifest's folder.
 *
 * <p>The manifest is read on the driver (a row is a few hundred bytes: a million rows fit easily) so that every row is
 * checked before any work: a row that cannot be processed is reported in the results with its reason, and the others
 * go on.
 */
final class Manifest {

    static final List<String> COLUMNS = List.of("video", "out", "prompt", "negative_prompt", "seed", "max_duration");

    private Manifest() {}

    /** Job-wide settings applied to every row. */
    record Settings(String outDir, int steps, float guidance) {}

    /** "csv", "jsonl" or "parquet" from the manifest's name; null when the name does not tell. */
    static String formatOf(String uri) {
        String name = uri.toLowerCase(Locale.ROOT);
        if (name.endsWith("/")) name = name.substring(0, name.length() - 1);
        if (name.endsWith(".csv")) return "csv";
        if (name.endsWith(".jsonl") || name.endsWith(".ndjson") || name.endsWith(".json")) return "jsonl";
        if (name.endsWith(".parquet")) return "parquet";
        return null;
    }

    static List<Item> read(SparkSession spark, HadoopFiles files, String uri, String format, Settings settings)
            throws IOException {
        String fmt = format != null ? format.toLowerCase(Locale.ROOT) : formatOf(uri);
        if (fmt == null) {
            throw new IllegalArgumentException("manifest " + uri + ": cannot tell its format from the name; "
                    + "give --format csv, jsonl or parquet");
        }
        Path manifest = new Path(uri);
        FileSystem fs = files.fs(manifest);
        manifest = fs.makeQualified(manifest);
        if (!fs.exists(manifest)) throw new IllegalArgumentException("manifest " + manifest + ": no such file");
        Path base = fs.getFileStatus(manifest).isDirectory() ? manifest : manifest.getParent();

        List<Row> rows;
        String[] columns;
        try {
            Dataset<Row> df = switch (fmt) {
                // RFC 4180 quoting ("" inside quotes); every value read as a string and parsed per row below
                case "csv" -> spark.read().option("header", "true").option("escape", "\"").option("multiLine", "true")
                        .option("mode", "FAILFAST").csv(manifest.toString());
                case "jsonl", "json" -> spark.read().option("mode", "FAILFAST").json(manifest.toString());
                case "parquet" -> spark.read().parquet(manifest.toString());
                default -> throw new IllegalArgumentException("--format must be csv, jsonl or parquet, not '" + format + "'");
            };
            columns = df.columns();
            checkColumns(manifest, columns, settings.outDir() != null);
            rows = df.collectAsList();
        } catch (IllegalArgumentException e) {
            throw e;
        } catch (Exception e) {
            // a malformed record fails a Spark job whose message is the job's; the parser's own message says what is wrong
            throw new IllegalArgumentException("manifest " + manifest + ": "
                    + GenerateJob.oneLine(GenerateJob.rootCause(e)), e);
        }
        if (rows.isEmpty()) throw new IllegalArgumentException("manifest " + manifest + ": no rows");

        Path outDir = settings.outDir() == null ? null : files.fs(new Path(settings.outDir()))
                .makeQualified(new Path(settings.outDir()));
        List<String> cols = Arrays.asList(columns);
        Map<String, Long> writer = new HashMap<>();
        List<Item> items = new ArrayList<>(rows.size());
        for (int i = 0; i < rows.size(); i++) {
            items.add(item(i + 1, rows.get(i), cols, base, outDir, settings, files, writer));
        }
        return items;
    }

    private static void checkColumns(Path manifest, String[] columns, boolean haveOutDir) {
        List<String> unknown = new ArrayList<>();
        for (String c : columns) if (!COLUMNS.contains(c)) unknown.add(c);
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException("manifest " + manifest + ": unknown column(s) " + String.join(", ", unknown)
                    + " (the columns are " + String.join(", ", COLUMNS) + ")");
        }
        List<String> have = Arrays.asList(columns);
        if (!have.contains("video")) throw new IllegalArgumentException("manifest " + manifest + ": no 'video' column");
        if (!have.contains("out") && !haveOutDir) {
            throw new IllegalArgumentException("manifest " + manifest + ": no 'out' column; add one or give --out-dir");
        }
    }

    private static Item item(long n, Row r, List<String> cols, Path base, Path outDir, Settings s, HadoopFiles files,
                             Map<String, Long> writer) throws IOException {
        String video = text(r, cols, "video");
        String out = text(r, cols, "out");
        String videoUri = video == null ? null : qualify(video, base, files);
        String outUri = out != null ? qualify(out, base, files)
                : outDir != null && video != null ? new Path(outDir, stem(new Path(video).getName()) + ".v2a.mp4").toString()
                : null;
        try {
            if (videoUri == null) throw new IllegalArgumentException("no video");
            if (outUri == null) throw new IllegalArgumentException("no output: the row's out is empty and there is no --out-dir");
            if (outUri.equals(videoUri)) throw new IllegalArgumentException(outUri + ": output would overwrite the input video");
            Long first = writer.putIfAbsent(outUri, n);
            if (first != null) throw new IllegalArgumentException(outUri + ": also the output of row " + first);
            String prompt = orDefault(text(r, cols, "prompt"), Defaults.PROMPT);
            String negative = orDefault(text(r, cols, "negative_prompt"), Defaults.NEGATIVE_PROMPT);
            checkText("prompt", prompt);
            checkText("negative_prompt", negative);
            long seed = parse("seed", text(r, cols, "seed"), Defaults.SEED);
            long maxDuration = parse("max_duration", text(r, cols, "max_duration"), (long) Defaults.MAX_DURATION_SEC);
            if (maxDuration < 1 || maxDuration > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("max_duration must be a whole number of seconds >= 1, got " + maxDuration);
            }
            ItemOptions o = new ItemOptions(prompt, negative, seed, (int) maxDuration, s.steps(), s.guidance());
            return new Item(n, videoUri, outUri, o, null);
        } catch (IllegalArgumentException e) {
            return new Item(n, videoUri, outUri, null, e.getMessage());
        }
    }

    /** The row's value as text, or null when the column is absent, null or blank. */
    private static String text(Row r, List<String> cols, String name) {
        int i = cols.indexOf(name);
        if (i < 0 || r.isNullAt(i)) return null;
        String s = r.get(i).toString();
        return s.isBlank() ? null : s;
    }

    private static String orDefault(String s, String fallback) {
        return s == null ? fallback : s;
    }

    private static long parse(String what, String s, long fallback) {
        if (s == null) return fallback;
        try {
            return Long.parseLong(s.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(what + " '" + s + "' is not a whole number");
        }
    }

    /** Text that was not valid UTF-8 reaches Java with U+FFFD: the reference would tokenize something else. */
    private static void checkText(String what, String text) {
        if (text.indexOf('\uFFFD') >= 0) throw new IllegalArgumentException("the " + what + " is not valid UTF-8");
    }

    /** A path relative to {@code base} when it is relative, on the default file system when it names none. */
    static String qualify(String path, Path base, HadoopFiles files) throws IOException {
        Path p = new Path(path.strip());
        if (!p.isAbsolute()) p = new Path(base, p);
        return files.fs(p).makeQualified(p).toString();
    }

    private static String stem(String name) {
        int dot = name.lastIndexOf('.');
        return dot > 0 ? name.substring(0, dot) : name;
    }
}
