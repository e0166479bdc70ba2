package io.github.v2a4j.spark;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/** The results table: one row per manifest row, written as Parquet, and the summary printed from it. */
final class Results {

    static final String DONE = "done";
    static final String FAILED = "failed";
    static final String SKIPPED = "skipped";

    static final StructType SCHEMA = new StructType()
            .add("row", DataTypes.LongType, false)
            .add("input", DataTypes.StringType, true)
            .add("output", DataTypes.StringType, true)
            .add("status", DataTypes.StringType, false)
            .add("error", DataTypes.StringType, true)
            .add("stage_seconds", DataTypes.createMapType(DataTypes.StringType, DataTypes.DoubleType, false), false)
            .add("seconds", DataTypes.DoubleType, false)
            .add("audio_seconds", DataTypes.DoubleType, true)
            .add("executor", DataTypes.StringType, false);

    private Results() {}

    static Row row(Item item, String status, String error, Map<String, Double> stages, double seconds,
                   Double audioSeconds, String executor) {
        // a Row's map must be a Scala map; this converter exists in Scala 2.12 and 2.13 alike
        @SuppressWarnings("deprecation")
        Object map = scala.collection.JavaConverters.mapAsScalaMapConverter(new LinkedHashMap<>(stages)).asScala();
        return RowFactory.create(item.row(), item.video(), item.out(), status, error, map, seconds, audioSeconds,
                executor);
    }

    /** What a run did, read back from its results table. */
    record Summary(long done, long failed, long skipped, List<String> failures, Map<String, Double> meanStageSeconds,
                   double seconds, String location) {

        static final int MAX_FAILURES_SHOWN = 20;

        static Summary of(Dataset<Row> results, double seconds, String location) {
            Map<String, Long> counts = new LinkedHashMap<>();
            for (Row r : results.groupBy("status").count().collectAsList()) counts.put(r.getString(0), r.getLong(1));
            List<String> failures = new ArrayList<>();
            for (Row r : results.filter("status = 'failed'").orderBy("row").limit(MAX_FAILURES_SHOWN)
                    .select("row", "input", "error").collectAsList()) {
                String input = r.getString(1);
                String error = r.getString(2);
                // errors about the video name it already
                if (input != null && error.startsWith(input + ": ")) error = error.substring(input.length() + 2);
                failures.add("row " + r.getLong(0) + " " + input + ": " + error);
            }
            Map<String, Double> mean = new LinkedHashMap<>();
            for (Row r : results.filter("status = 'done'").selectExpr("explode(stage_seconds) as (stage, s)")
                    .groupBy("stage").avg("s").collectAsList()) {
                mean.put(r.getString(0), r.getDouble(1));
            }
            return new Summary(counts.getOrDefault(DONE, 0L), counts.getOrDefault(FAILED, 0L),
                    counts.getOrDefault(SKIPPED, 0L), failures, ordered(mean), seconds, location);
        }

        /** Stages in pipeline order (as the first done row lists them), then any others. */
        private static Map<String, Double> ordered(Map<String, Double> mean) {
            Map<String, Double> out = new LinkedHashMap<>();
            for (String s : STAGE_ORDER) if (mean.containsKey(s)) out.put(s, mean.get(s));
            mean.forEach(out::putIfAbsent);
            return out;
        }

        private static final List<String> STAGE_ORDER = List.of("copy_in", "open_model", "load_video", "encode_prompt",
                "encode_video", "encode_black_video", "denoise", "vae_decode", "audio", "mux", "copy_out");

        List<String> lines() {
            List<String> out = new ArrayList<>();
            out.add(String.format("v2a-spark: %d rows: %d done, %d failed, %d skipped (output exists) in %s; results: %s",
                    done + failed + skipped, done, failed, skipped, duration(seconds), location));
            for (String f : failures) out.add("v2a-spark: failed " + f);
            if (failed > failures.size()) out.add("v2a-spark: … and " + (failed - failures.size()) + " more failures");
            if (!meanStageSeconds.isEmpty()) {
                StringBuilder sb = new StringBuilder("v2a-spark: mean seconds per done clip:");
                meanStageSeconds.forEach((k, v) -> sb.append(String.format(" %s %.1f,", k, v)));
                sb.setLength(sb.length() - 1);
                out.add(sb.toString());
            }
            return out;
        }

        private static String duration(double s) {
            long t = Math.round(s);
            return t >= 3600 ? String.format("%dh%02dm%02ds", t / 3600, t / 60 % 60, t % 60)
                    : t >= 60 ? String.format("%dm%02ds", t / 60, t % 60) : String.format("%.1fs", s);
        }
    }
}
