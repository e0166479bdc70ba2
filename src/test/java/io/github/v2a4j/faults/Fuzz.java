package io.github.v2a4j.faults;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.v2a4j.io.video.VideoReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The fault-injection fuzz of {@code v2a generate}: mutated videos and damaged models go through the command line in
 * a child JVM ({@link FuzzWorker}), and every case must end cleanly:
 *
 * <ul>
 *   <li>exit 0 with a readable video and nothing else in its folder, or exit 1 with exactly one
 *       {@code v2a: error:} line and nothing at all in its folder;
 *   <li>no stack trace (no {@code --verbose}), no FFmpeg line on the process's own stderr;
 *   <li>no JVM crash (the worker ends normally) and no hang (each case runs under a time limit);
 *   <li>no temporary file anywhere under the case's output and cache folders.
 * </ul>
 *
 * <p>Videos are checked through the reader and the CLI's early checks (a model folder that does not exist ends a
 * decodable case right after reading, with its own one-line error); {@code wholeRuns} of the decodable ones then run
 * the whole pipeline on the demo model.
 */
public final class Fuzz {

    /** One case's outcome in the worker. */
    public record Result(String id, String what, int exit, long millis, String err, Path outDir, Path cacheDir) {
        List<String> errorLines() {
            return err.lines().filter(l -> l.startsWith("v2a: error: ")).toList();
        }
    }

    /**
     * What a fuzz run did, for the report: per kind, how many cases ran to a video (exit 0), were read or opened and
     * then stopped on purpose (exit 1: a video at the missing model, a model at the step count past its scheduler),
     * or were refused with an error of their own (exit 1).
     */
    public record Summary(int cases, long millis, Map<String, int[]> byKind, List<String> outcomes) {
        @Override
        public String toString() {
            int[] t = new int[3];
            byKind.values().forEach(v -> {
                for (int i = 0; i < 3; i++) t[i] += v[i];
            });
            StringBuilder sb = new StringBuilder(String.format("%d cases, %.1f s in the commands: %d ran to a video, "
                    + "%d read or opened (then stopped on purpose), %d refused with one error line%n", cases,
                    millis / 1000.0, t[0], t[1], t[2]));
            byKind.forEach((k, v) -> sb.append(String.format("  %-22s %3d video, %3d read/opened, %3d refused%n", k, v[0],
                    v[1], v[2])));
            outcomes.forEach(o -> sb.append("    ").append(o).append('\n'));
            return sb.toString();
        }
    }

    static final Path SAMPLE = Path.of("assets/sample.mp4");
    static final Path DEMO = Path.of("assets/demo-model");

    private final Path work;
    private final long seed;

    public Fuzz(Path work, long seed) {
        this.work = work;
        this.seed = seed;
    }

    /** A whole generation kept short: 1 s of video, 2 frames, 1 step (the demo model then takes seconds). */
    static final List<String> SHORT_RUN = List.of("--frames", "2", "--steps", "1", "--max-duration", "1");

    /**
     * Video cases {@code from .. to-1} through the reader and the early checks, then the first {@code wholeRuns} of
     * those that read through the whole pipeline: two child JVMs.
     */
    public Summary videos(int from, int to, int wholeRuns) throws Exception {
        List<Case> cases = videoCases(from, to);
        List<Result> results = new ArrayList<>(run(cases, 120));
        List<Case> whole = new ArrayList<>();
        for (Result r : results) {
            boolean decoded = r.exit() == 1 && r.errorLines().get(0).contains("no such model directory");
            if (decoded && whole.size() < wholeRuns) {
                whole.add(wholeRun(cases.stream().filter(x -> x.id().equals(r.id())).findFirst().orElseThrow()));
            }
        }
        List<Result> wholeResults = run(whole, 300);
        for (Result r : wholeResults) assertThat(r.exit()).as(describe(r)).isZero();
        results.addAll(wholeResults);
        return summarize(results);
    }

    /** Model cases {@code from .. to-1}, each a damaged copy of the demo model running a 1 s clip to the end. */
    public Summary models(int from, int to) throws Exception {
        return summarize(run(modelCases(from, to, SHORT_RUN), 180));
    }

    /**
     * The default suite's sample in one child JVM: video cases {@code videos[0] .. videos[1]-1} through the reader,
     * the video case {@code whole} through the whole pipeline, and model cases {@code models[0] .. models[1]-1}
     * through the model's opening and checks (a step count above the scheduler's range then stops a model that
     * opened, before the encoders).
     */
    public Summary sample(int[] videos, int whole, int[] models) throws Exception {
        List<Case> cases = new ArrayList<>(videoCases(videos[0], videos[1]));
        cases.add(wholeRun(videoCases(whole, whole + 1).get(0)));
        cases.addAll(modelCases(models[0], models[1], List.of("--frames", "2", "--max-duration", "1", "--steps",
                Integer.toString(PAST_THE_SCHEDULER))));
        return summarize(run(cases, 180));
    }

    /** Within the option's range (1–1000), above the demo scheduler's 999. */
    static final int PAST_THE_SCHEDULER = 1000;

    private List<Case> videoCases(int from, int to) throws Exception {
        VideoMutations m = new VideoMutations(Files.readAllBytes(SAMPLE), seed);
        Path noModel = work.resolve("no-such-model");
        List<Case> cases = new ArrayList<>();
        for (int i = from; i < to; i++) {
            VideoMutations.Mutation mu = m.get(i);
            Path in = Files.write(Files.createDirectories(work.resolve("videos")).resolve("v" + i + ".mp4"), mu.bytes());
            cases.add(new Case("v" + i, mu.what(), in, noModel, List.of("--frames", "8")));
        }
        return cases;
    }

    private static Case wholeRun(Case c) {
        return new Case(c.id() + "-whole", c.what(), c.input(), DEMO, SHORT_RUN);
    }

    private List<Case> modelCases(int from, int to, List<String> extra) throws Exception {
        ModelCorruptions mc = new ModelCorruptions(seed);
        List<Case> cases = new ArrayList<>();
        for (int i = from; i < to; i++) {
            Path model = Corrupt.copyTree(DEMO, work.resolve("models/m" + i));
            String what = mc.apply(i, model);
            cases.add(new Case("m" + i, what, SAMPLE, model, extra));
        }
        return cases;
    }

    record Case(String id, String what, Path input, Path model, List<String> extra) {}

    private List<Result> run(List<Case> cases, long perCaseSec) throws Exception {
        if (cases.isEmpty()) return List.of();
        Map<String, Case> byId = new LinkedHashMap<>();
        StringBuilder plan = new StringBuilder();
        for (Case c : cases) {
            byId.put(c.id(), c);
            Path out = Files.createDirectories(work.resolve("out/" + c.id()));
            Path cache = work.resolve("cache/" + c.id());
            List<String> cli = new ArrayList<>(List.of("generate", c.input().toString(), "--model",
                    c.model().toString(), "--out", out.resolve("o.mp4").toString(), "--cache-dir", cache.toString()));
            cli.addAll(c.extra());
            plan.append(c.id()).append('\t').append(String.join("\t", cli)).append('\n');
        }
        Path planFile = Files.writeString(work.resolve("plan-" + cases.get(0).id() + ".tsv"), plan);
        long total = 60 + perCaseSec * cases.size();
        Processes.Run w = Processes.run(List.of(FuzzWorker.class.getName(), planFile.toString(),
                Long.toString(perCaseSec)), Map.of(), total);
        String lastStarted = null;
        List<Result> results = new ArrayList<>();
        for (String line : w.output().lines().toList()) {
            String[] f = line.split("\t", -1);
            switch (f[0]) {
                case "START" -> lastStarted = f[1];
                case "RESULT" -> {
                    Case c = byId.get(f[1]);
                    String err = new String(Base64.getDecoder().decode(f[4]), StandardCharsets.UTF_8);
                    results.add(new Result(f[1], c.what(), Integer.parseInt(f[2]), Long.parseLong(f[3]), err,
                            work.resolve("out/" + c.id()), work.resolve("cache/" + c.id())));
                }
                case "HANG" -> throw new AssertionError("hang: case " + f[1] + " (" + byId.get(f[1]).what()
                        + ") ran past " + perCaseSec + " s");
                default -> { }
            }
        }
        String at = lastStarted == null ? "before the first case" : "in case " + lastStarted + " ("
                + byId.get(lastStarted).what() + ")";
        assertThat(w.crashed()).as("JVM crash (exit " + w.exit() + ") " + at + "\n" + tail(w.err())).isFalse();
        assertThat(w.timedOut()).as("worker ran past " + total + " s " + at).isFalse();
        assertThat(w.exit()).as("worker exit " + at + "\n" + tail(w.err())).isZero();
        assertThat(results).hasSize(cases.size());
        // FFmpeg and anything else native write straight to file descriptor 2: it must stay silent
        assertThat(w.err().lines().filter(l -> !l.isBlank()).toList()).as("process stderr").isEmpty();
        for (Result r : results) check(r);
        return results;
    }

    /** The per-case rules of the class comment. */
    static void check(Result r) throws Exception {
        String d = describe(r);
        assertThat(r.exit()).as(d).isIn(0, 1);
        assertThat(r.err()).as(d).doesNotContain("\tat ").doesNotContain("Exception:");
        for (String line : r.err().lines().toList()) {
            assertThat(line).as(d).matches("v2a: .*|\\[main\\] WARN .*|WARN .*");
            assertThat(line.length()).as(d).isLessThanOrEqualTo(1200);
        }
        List<String> files = listAll(r.outDir());
        if (r.exit() == 1) {
            assertThat(r.errorLines()).as(d).hasSize(1);
            assertThat(files).as(d + ": left behind").isEmpty();
        } else {
            assertThat(r.errorLines()).as(d).isEmpty();
            assertThat(files).as(d).containsExactly("o.mp4");
            // a 1 s clip comes back re-timed to its 0.95 s of audio: readable, though shorter than load_video takes
            assertThat(VideoReader.forEachFrame(r.outDir().resolve("o.mp4"), Integer.MAX_VALUE, (i, rgb) -> { }))
                    .as(d).isPositive();
        }
        if (Files.isDirectory(r.cacheDir())) {
            assertThat(listAll(r.cacheDir())).as(d + ": temporary files in the cache")
                    .noneMatch(n -> n.endsWith(".part") || n.endsWith(".tmp"));
        }
    }

    static String describe(Result r) {
        return r.id() + " [" + r.what() + "] exit " + r.exit() + ":\n" + r.err();
    }

    static List<String> listAll(Path dir) throws Exception {
        if (!Files.isDirectory(dir)) return List.of();
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(p -> !p.equals(dir)).map(p -> dir.relativize(p).toString()).sorted().toList();
        }
    }

    static boolean stoppedOnPurpose(Result r) {
        String e = r.errorLines().get(0);
        return e.contains("no such model directory")
                || e.contains("steps must be at most 999 for this model's scheduler (1000 training timesteps, leading "
                + "spacing, steps_offset 1), got " + PAST_THE_SCHEDULER);
    }

    private static Summary summarize(List<Result> results) {
        Map<String, int[]> byKind = new TreeMap<>();
        List<String> outcomes = new ArrayList<>();
        long ms = 0;
        for (Result r : results) {
            outcomes.add(r.id() + " [" + r.what() + "] " + r.millis() + " ms -> exit " + r.exit()
                    + (r.exit() == 0 ? "" : ": " + r.errorLines().get(0)));
            String kind = r.what().substring(0, r.what().indexOf(':')) + (r.id().endsWith("-whole") ? " (whole)" : "");
            int[] c = byKind.computeIfAbsent(kind, k -> new int[3]);
            c[r.exit() == 0 ? 0 : stoppedOnPurpose(r) ? 1 : 2]++;
            ms += r.millis();
        }
        return new Summary(results.size(), ms, byKind, outcomes);
    }

    private static String tail(String s) {
        return s.length() <= 4000 ? s : s.substring(s.length() - 4000);
    }
}
