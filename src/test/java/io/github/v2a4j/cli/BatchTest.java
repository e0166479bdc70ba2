package io.github.v2a4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.v2a4j.io.video.VideoReader;
import io.github.v2a4j.pipeline.Defaults;
import io.github.v2a4j.synthetic.DemoModel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code v2a generate} over many videos: a manifest with a broken video and an existing output, folders of videos,
 * and a batch killed halfway that finishes on its second run without redoing what it had finished.
 */
class BatchTest {

    @TempDir
    static Path dir;

    static Path model;

    /** Options that keep each item to a few seconds on the demo model (this checks the batch, not the sound). */
    static final String[] FAST = {"--steps", "2", "--frames", "4", "--iterations", "2"};

    @BeforeAll
    static void setUp() {
        model = dir.resolve("model");
        DemoModel.write(model);
    }

    static String[] args(String... a) {
        List<String> all = new ArrayList<>(List.of(a));
        all.addAll(List.of("--model", model.toString()));
        all.addAll(List.of(FAST));
        return all.toArray(String[]::new);
    }

    static Path video(Path folder, String name) throws Exception {
        Path v = Files.createDirectories(folder).resolve(name);
        GenerateCommandTest.makeVideo(v, 2.0, 12);
        return v;
    }

    static List<String> journal(Path folder) throws Exception {
        Path j = folder.resolve(BatchJournal.NAME);
        return Files.exists(j) ? Files.readAllLines(j, StandardCharsets.UTF_8) : List.of();
    }

    static long count(List<String> journal, String event) {
        return journal.stream().filter(l -> l.contains("\"event\":\"" + event + "\"")).count();
    }

    @Test
    void aManifestWithABrokenVideoAndAnExistingOutput() throws Exception {
        Path in = dir.resolve("m1");
        video(in, "a.mp4");
        video(in, "b.mp4");
        video(in, "c.mp4");
        Files.writeString(in.resolve("broken.mp4"), "not a video");
        Path out = Files.createDirectories(dir.resolve("m1-out"));
        Files.writeString(out.resolve("b.v2a.mp4"), "made earlier");
        Files.writeString(in.resolve("jobs.csv"), """
                video,out,prompt,negative_prompt,seed,max_duration
                a.mp4,,,,,
                b.mp4,,"a dog, barking",,5,
                broken.mp4,,,,,
                c.mp4,elsewhere/c.mp4,rain,wind,3,1
                """);
        Files.createDirectories(in.resolve("elsewhere"));

        GenerateCommandTest.Run r = GenerateCommandTest.run(args("generate", "--manifest",
                in.resolve("jobs.csv").toString(), "--out-dir", out.toString(), "--skip-existing"));

        assertThat(r.exit()).as(r.err()).isEqualTo(1);
        assertThat(r.out()).contains("batch of 4: 2 done, 1 failed, 1 skipped");
        // the failure: one line while running, and its reason in the summary
        assertThat(r.err().lines().filter(l -> l.contains("failed:"))).singleElement().asString()
                .contains("[3/4]").contains("jobs.csv line 4").contains("broken.mp4");
        assertThat(r.out()).containsPattern("failed +jobs.csv line 4: .*broken.mp4");
        assertThat(r.out()).containsPattern("skipped +jobs.csv line 3: output exists");
        assertThat(r.err()).contains("[1/4]").contains("[4/4]").contains("ETA");
        assertThat(r.err()).doesNotContain("\tat ");

        assertThat(VideoReader.probe(out.resolve("a.v2a.mp4"), Defaults.MAX_DURATION_SEC).durationSec()).isEqualTo(1);
        assertThat(Files.readString(out.resolve("b.v2a.mp4"))).isEqualTo("made earlier");
        assertThat(out.resolve("broken.v2a.mp4")).doesNotExist();
        // out relative to the manifest; max_duration 1 → the first second's 12 frames, re-timed to 0.95 s of sound
        // (shorter than 1 s, so probe would refuse it: count the frames)
        assertThat(VideoReader.forEachFrame(in.resolve("elsewhere/c.mp4"), 1000, (i, rgb) -> { })).isEqualTo(12);
        List<String> j = journal(out);
        assertThat(count(j, "done")).isEqualTo(2);
        assertThat(count(j, "failed")).isEqualTo(1);
        try (Stream<Path> s = Files.list(out)) {
            assertThat(s.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("a.v2a.mp4", "b.v2a.mp4",
                    BatchJournal.NAME);
        }
    }

    @Test
    void aFolderOfVideosAndAManifestThatIsWrongBeforeAnyWork() throws Exception {
        Path in = dir.resolve("f1");
        video(in, "x.mp4");
        video(in, "y.mov");
        Files.writeString(in.resolve("notes.txt"), "not a video");
        Path out = Files.createDirectories(dir.resolve("f1-out"));
        GenerateCommandTest.Run r = GenerateCommandTest.run(args("generate", in.toString(), "--out-dir", out.toString()));
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("batch of 2: 2 done, 0 failed, 0 skipped");
        assertThat(out.resolve("x.v2a.mp4")).isRegularFile();
        assertThat(out.resolve("y.v2a.mp4")).isRegularFile();

        // run again: both are in the journal, nothing is redone
        r = GenerateCommandTest.run(args("generate", in.toString(), "--out-dir", out.toString()));
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("batch of 2: 0 done, 0 failed, 2 skipped").contains("done in an earlier run");

        Path bad = in.resolve("bad.jsonl");
        Files.writeString(bad, "{\"video\": \"x.mp4\", \"negative-prompt\": \"hiss\"}\n");
        GenerateCommandTest.assertFails(out, "unknown field 'negative-prompt'", args("generate", "--manifest",
                bad.toString(), "--out-dir", out.toString()));
        Files.writeString(bad, "{\"video\": \"x.mp4\"}\n{\"video\": \"y.mov\", \"out\": \"x.v2a.mp4\"}\n");
        GenerateCommandTest.assertFails(out, "both write", args("generate", "--manifest", bad.toString()));
        GenerateCommandTest.assertFails(out, "needs --out-dir", args("generate", in.resolve("x.mp4").toString(),
                in.resolve("y.mov").toString()));
    }

    @Test
    void aBatchKilledHalfwayFinishesTheRestOnItsNextRun() throws Exception {
        Path in = dir.resolve("k1");
        StringBuilder manifest = new StringBuilder();
        for (String name : new String[] {"p.mp4", "q.mp4", "r.mp4", "s.mp4"}) {
            video(in, name);
            manifest.append("{\"video\": \"").append(name).append("\"}\n");
        }
        Files.writeString(in.resolve("jobs.jsonl"), manifest);
        Path out = Files.createDirectories(dir.resolve("k1-out"));
        String[] cmd = args("generate", "--manifest", in.resolve("jobs.jsonl").toString(), "--out-dir", out.toString());

        List<String> java = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx1g", "-Dorg.bytedeco.javacpp.maxphysicalbytes=0", "-Dai.djl.offline=true",
                "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        java.addAll(List.of(cmd));
        Process child = new ProcessBuilder(java).redirectErrorStream(true)
                .redirectOutput(dir.resolve("child.log").toFile()).start();
        try {
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
            while (count(journal(out), "done") == 0 && child.isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
        } finally {
            child.destroyForcibly();
            child.waitFor(30, TimeUnit.SECONDS);
        }
        List<String> before = journal(out);
        assertThat(count(before, "done")).as(Files.readString(dir.resolve("child.log"))).isBetween(1L, 3L);
        // killed mid-item: every output there is complete (outputs are renamed into place only when whole)
        List<Path> finished = new ArrayList<>();
        List<FileTime> times = new ArrayList<>();
        try (Stream<Path> s = Files.list(out)) {
            for (Path p : s.filter(p -> p.getFileName().toString().endsWith(".v2a.mp4")).sorted().toList()) {
                assertThat(VideoReader.probe(p, Defaults.MAX_DURATION_SEC).durationSec()).isEqualTo(1);
                finished.add(p);
                times.add(Files.getLastModifiedTime(p));
            }
        }
        assertThat(finished).hasSizeGreaterThanOrEqualTo((int) count(before, "done"));
        // a kill while an output was being written leaves its hidden temporary file: the rerun removes it
        Path unfinished = Stream.of("p", "q", "r", "s").map(n -> out.resolve(n + ".v2a.mp4"))
                .filter(p -> !finished.contains(p)).findFirst().orElseThrow();
        Files.writeString(out.resolve("." + unfinished.getFileName() + ".8120533.part.mp4"), "cut short");

        GenerateCommandTest.Run r = GenerateCommandTest.run(cmd);
        assertThat(r.exit()).as(r.err()).isZero();
        int redo = 4 - finished.size();
        assertThat(r.out()).contains("batch of 4: " + redo + " done, 0 failed, " + finished.size() + " skipped");
        for (int i = 0; i < finished.size(); i++) {
            assertThat(Files.getLastModifiedTime(finished.get(i))).as("%s not redone", finished.get(i))
                    .isEqualTo(times.get(i));
        }
        try (Stream<Path> s = Files.list(out)) {
            assertThat(s.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("p.v2a.mp4", "q.v2a.mp4",
                    "r.v2a.mp4", "s.v2a.mp4", BatchJournal.NAME); // no temporary file left by the killed run
        }
    }
}
