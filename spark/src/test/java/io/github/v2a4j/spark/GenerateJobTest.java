package io.github.v2a4j.spark;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.v2a4j.pipeline.Defaults;
import io.github.v2a4j.io.video.LoadedVideo;
import io.github.v2a4j.io.video.VideoReader;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.bytedeco.javacv.FFmpegFrameGrabber;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The issue's acceptance, in Spark local mode local[2] with the demo model: a manifest of four rows (two good videos,
 * one broken, one whose output exists) gives two outputs, one failure row with its reason and one skipped row; a
 * rerun writes nothing new; the model is opened once in this JVM (the local executor).
 */
class GenerateJobTest {

    @TempDir
    Path dir;

    record Run(int exit, String out, String err) {}

    static Run job(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            int code = GenerateJob.execute(args);
            return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
            System.out.print(out.toString(StandardCharsets.UTF_8));
        }
    }

    /** Each file under {@code d} with its size and modification time. */
    static Map<String, String> snapshot(Path d) throws Exception {
        try (Stream<Path> s = Files.walk(d)) {
            Map<String, String> m = new TreeMap<>();
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                FileTime t = Files.getLastModifiedTime(p);
                m.put(d.relativize(p).toString(), Files.size(p) + " bytes, modified " + t);
            }
            return m;
        }
    }

    /** status, error and stage names of each row of one run's results, by input file name. */
    static Map<String, Row> byInput(List<Row> rows) {
        return rows.stream().collect(Collectors.toMap(r -> Path.of(r.<String>getAs("input")).getFileName().toString(),
                r -> r));
    }

    static List<Row> results(Path results, String run) {
        SparkSession spark = SparkSession.builder().master("local[1]").config("spark.ui.enabled", "false")
                .getOrCreate();
        try {
            return spark.read().parquet(results.toString()).filter("run = '" + run + "'").collectAsList();
        } finally {
            spark.stop();
        }
    }

    static String runOf(String summary) {
        int i = summary.indexOf("run=");
        return summary.substring(i + 4).lines().findFirst().orElseThrow().strip();
    }

    @Test
    void fourRowsTwoDoneOneFailedOneSkippedAndARerunWritesNothingNew() throws Exception {
        Path model = TestData.demoModelCopy(dir);
        Path in = Files.createDirectories(dir.resolve("in"));
        Path outDir = Files.createDirectories(dir.resolve("out"));
        Files.copy(TestData.sampleVideo(), in.resolve("a.mp4"));          // 3 s, 96 frames sampled from 75
        TestData.makeVideo(in.resolve("b.mp4"), 2.0, 12);                 // 2 s, 48x32
        Files.write(in.resolve("broken.mp4"), TestData.garbage(5000));    // not a video
        Files.copy(TestData.sampleVideo(), in.resolve("c.mp4"));
        Files.writeString(outDir.resolve("c.v2a.mp4"), "an output made before");
        Path manifest = dir.resolve("clips.csv");
        Files.writeString(manifest, String.join("\n",
                "video,out,prompt,seed",
                "in/a.mp4,out/a.v2a.mp4,\"rain, on a tin roof\",7",
                "in/b.mp4,out/b.v2a.mp4,,",
                "in/broken.mp4,out/broken.v2a.mp4,,",
                "in/c.mp4,out/c.v2a.mp4,,", ""));
        Path results = dir.resolve("results");
        String[] args = {"--master", "local[2]", "--manifest", manifest.toString(), "--model", model.toString(),
            "--results", results.toString(), "--steps", "5"}; // the job's behaviour, not the sound: few steps
        int openedBefore = ExecutorModels.opened();

        Run first = job(args);
        assertThat(first.exit()).as(first.err()).isZero();
        assertThat(first.out()).contains("4 rows: 2 done, 1 failed, 1 skipped");
        assertThat(first.out()).contains("failed row 3 file:" + in.resolve("broken.mp4"));

        Map<String, Row> rows = byInput(results(results, runOf(first.out())));
        assertThat(rows).hasSize(4);
        for (String done : List.of("a.mp4", "b.mp4")) {
            Row r = rows.get(done);
            assertThat(r.<String>getAs("status")).as(done).isEqualTo("done");
            assertThat(r.<String>getAs("error")).isNull();
            assertThat(r.<String>getAs("executor")).startsWith("driver@");
            Map<String, Double> stages = r.getJavaMap(r.fieldIndex("stage_seconds"));
            assertThat(stages).containsKeys("copy_in", "load_video", "encode_prompt", "encode_video", "denoise",
                    "vae_decode", "audio", "mux", "copy_out");
            assertThat(stages.values()).allMatch(s -> s >= 0);
            assertThat(r.<Double>getAs("seconds")).isGreaterThan(stages.get("denoise"));
        }
        // K4's width: (duration·100)//32·32 columns of 10 ms, one column fewer of audio samples
        assertThat(rows.get("a.mp4").<Double>getAs("audio_seconds")).isEqualTo(441.0 * 287 / 44100);
        assertThat(rows.get("b.mp4").<Double>getAs("audio_seconds")).isEqualTo(441.0 * 191 / 44100);
        // the executor opened the model for the first clip it generated and reused it for the second
        assertThat(ExecutorModels.opened() - openedBefore).isEqualTo(1);
        assertThat(rows.values().stream().filter(r -> r.getJavaMap(r.fieldIndex("stage_seconds"))
                .containsKey("open_model")).count()).isEqualTo(1);

        Row broken = rows.get("broken.mp4");
        assertThat(broken.<String>getAs("status")).isEqualTo("failed");
        assertThat(broken.<String>getAs("error")).startsWith("file:" + in.resolve("broken.mp4") + ": not a video file FFmpeg can read")
                .doesNotContain("\n").doesNotContain("v2a-item-");
        assertThat(rows.get("c.mp4").<String>getAs("status")).isEqualTo("skipped");

        // two videos with sound written, the existing output untouched, nothing else (no temporary files)
        assertThat(TestData.listing(outDir)).containsExactly("a.v2a.mp4", "b.v2a.mp4", "c.v2a.mp4");
        assertThat(Files.readString(outDir.resolve("c.v2a.mp4"))).isEqualTo("an output made before");
        for (String name : List.of("a.v2a.mp4", "b.v2a.mp4")) {
            LoadedVideo v = VideoReader.load(outDir.resolve(name), Defaults.FRAMES, Defaults.MAX_DURATION_SEC);
            assertThat(v.durationSec()).isGreaterThanOrEqualTo(1);
            try (FFmpegFrameGrabber g = new FFmpegFrameGrabber(outDir.resolve(name).toFile())) {
                g.start();
                assertThat(g.getAudioChannels()).as(name).isEqualTo(1);
                assertThat(g.getSampleRate()).isEqualTo(44100);
            }
        }

        // a rerun: the two done rows are skipped now, the broken one fails again, no file is written or touched
        Map<String, String> before = snapshot(outDir);
        Run second = job(args);
        assertThat(second.exit()).as(second.err()).isZero();
        assertThat(second.out()).contains("4 rows: 0 done, 1 failed, 3 skipped");
        assertThat(snapshot(outDir)).isEqualTo(before);
        Map<String, Row> rerun = byInput(results(results, runOf(second.out())));
        assertThat(rerun.get("a.mp4").<String>getAs("status")).isEqualTo("skipped");
        assertThat(rerun.get("b.mp4").<String>getAs("status")).isEqualTo("skipped");
        assertThat(rerun.get("c.mp4").<String>getAs("status")).isEqualTo("skipped");
        assertThat(rerun.get("broken.mp4").<String>getAs("status")).isEqualTo("failed");
        assertThat(ExecutorModels.opened() - openedBefore).isEqualTo(1);
    }

    @Test
    void rowsThatNeedNoGenerationNeverOpenTheModel() throws Exception {
        Path model = TestData.demoModelCopy(dir);
        Files.copy(TestData.sampleVideo(), dir.resolve("a.mp4"));
        Files.writeString(dir.resolve("a.out.mp4"), "exists");
        Path manifest = dir.resolve("m.jsonl");
        Files.writeString(manifest, """
                {"video": "a.mp4", "out": "a.out.mp4"}
                {"video": "a.mp4", "out": "b.out.mp4", "seed": "x"}
                """);
        int openedBefore = ExecutorModels.opened();
        Run r = job("--master", "local[1]", "--manifest", manifest.toString(), "--model", model.toString(),
                "--results", dir.resolve("results").toString());
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("2 rows: 0 done, 1 failed, 1 skipped")
                .contains("failed row 2 file:" + dir.resolve("a.mp4") + ": seed 'x' is not a whole number");
        assertThat(ExecutorModels.opened()).isEqualTo(openedBefore);
        assertThat(TestData.listing(dir)).doesNotContain("b.out.mp4");
    }

    @Test
    void jobErrorsAreOneLineAndComeBeforeAnyWork() throws Exception {
        Path manifest = dir.resolve("m.csv");
        Files.writeString(manifest, "video,out\na.mp4,b.mp4\n");
        Path model = TestData.demoModelCopy(dir);
        String results = dir.resolve("results").toString();

        Run noMaster = job("--manifest", manifest.toString(), "--model", model.toString(), "--results", results);
        assertThat(noMaster.exit()).isEqualTo(1);
        assertThat(noMaster.err().strip())
                .isEqualTo("v2a-spark: error: no Spark master: run with spark-submit, or give --master local[N]");

        Run noModel = job("--master", "local[1]", "--manifest", manifest.toString(), "--model",
                dir.resolve("nope").toString(), "--results", results);
        assertThat(noModel.exit()).isEqualTo(1);
        assertThat(noModel.err().strip()).isEqualTo("v2a-spark: error: --model " + dir.resolve("nope")
                + ": no such directory");

        Run typo = job("--master", "local[1]", "--manifest", dir.resolve("m.cvs").toString(), "--model",
                model.toString(), "--results", results);
        assertThat(typo.exit()).isEqualTo(1);
        assertThat(typo.err().strip().lines().reduce((a, b) -> b).orElseThrow()).isEqualTo("v2a-spark: error: manifest "
                + dir.resolve("m.cvs") + ": cannot tell its format from the name; give --format csv, jsonl or parquet");
        assertThat(Files.exists(dir.resolve("results"))).isFalse();
    }
}
