package io.github.v2a4j.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.v2a4j.bench.Machine;
import io.github.v2a4j.cogvlm.CogVlmConfig;
import io.github.v2a4j.cogvlm.LlamaTokenizer;
import io.github.v2a4j.convert.ConfigSymbols;
import io.github.v2a4j.convert.ExpectedTensors;
import io.github.v2a4j.io.video.VideoInfo;
import io.github.v2a4j.io.video.VideoReader;
import io.github.v2a4j.io.video.VideoWriter;
import io.github.v2a4j.nn.Precision;
import io.github.v2a4j.pipeline.Defaults;
import io.github.v2a4j.pipeline.ProcessMemory;
import io.github.v2a4j.pipeline.Stage;
import io.github.v2a4j.pipeline.TraceProfile;
import io.github.v2a4j.pipeline.Video2AudioPipeline;
import io.github.v2a4j.synthetic.ReusableCheckpoints;
import io.github.v2a4j.synthetic.UpstreamCheckpoints;
import io.github.v2a4j.synthetic.UpstreamCheckpoints.Scale;
import io.github.v2a4j.synthetic.UpstreamCheckpoints.Shape;
import io.github.v2a4j.unet.UNetConfig;
import io.github.v2a4j.vae.VaeConfig;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code v2a rehearse}: the whole product at the real size, before downloading anything. Writes synthetic
 * checkpoints in the published layouts ({@link UpstreamCheckpoints}, kept in the work directory for the next run),
 * runs {@code v2a convert} on them and {@code v2a generate --profile} on a video, and prints one table: per stage the
 * wall time, FLOP, GFLOP/s, peak resident memory (anonymous and file-backed) and disk; {@code rehearsal.json} holds
 * every figure with the machine and the settings.
 *
 * <p>Convert and generate run as child processes of the same jar and JVM flags: each stage's peak memory is then its
 * own (not what an earlier stage left mapped or in the allocator), it is what a user running the command sees, and a
 * stage that the kernel kills for memory is reported as such while the table is still written.
 */
@Command(name = "rehearse", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
            "Rehearse the whole pipeline at the real size with synthetic weights: no download needed. Tells how long a "
                    + "generation takes on this machine, how much memory and disk it needs, and that it finishes.",
            "1. writes synthetic checkpoints laid out as ai-forever/kandinsky-4-v2a and "
                    + "THUDM/cogvlm2-video-llama3-chat (30 GB at the real size; kept in --work and reused by the next "
                    + "run with the same shape),",
            "2. runs 'v2a convert' on them (--dtype), 3. runs 'v2a generate --profile' on a video (a clip it makes, "
                    + "or --video) once per --runs entry,",
            "then prints one table (stage, wall time, FLOP, GFLOP/s, peak RSS anonymous / file-backed / total, disk) "
                    + "and writes it with the machine and the settings to WORK/rehearsal.json. Free disk is checked "
                    + "before anything is written. The synthetic sound is noise: only the time and the memory mean "
                    + "something."},
        footer = {"", "Examples:",
            "  ./v2a rehearse --work /data/v2a-rehearsal --dtype bf16 --runs cold,warm   # the full size: hours",
            "  ./v2a rehearse --work /tmp/v2a-quick --cogvlm-layers 1,1 --steps 2 --seconds 4   # real widths, 2 layers",
            "  ./v2a rehearse --work /tmp/v2a-tiny --scale tiny --steps 2   # tiny widths, same layouts"})
public final class RehearseCommand implements Callable<Integer> {

    @Option(names = "--work", paramLabel = "DIR", required = true,
            description = "Work directory (created): checkpoints/, model-<dtype>/, the clip, outputs, profiles, cache/, logs/, "
                    + "rehearsal.json. Needs 30 GB for the checkpoints plus the converted model (f32 51 GB, bf16 "
                    + "26 GB) at the real size.")
    Path work;

    @Option(names = "--video", paramLabel = "FILE",
            description = "Video to generate for (default: a --seconds clip made in DIR with the project's own "
                    + "video writer).")
    Path video;

    @Option(names = "--seconds", description = "Length of the made clip (default: ${DEFAULT-VALUE}; a clip longer "
            + "than 12 s is denoised in 12 s windows, each with a CogVLM2 video pass of its own).")
    int seconds = 12;

    @Option(names = "--cogvlm-layers", paramLabel = "VISION,DECODER",
            description = "CogVLM2 vision and decoder layers that run (default: 63,31, the published model; the "
                    + "checkpoint holds one decoder layer more, as the published one does). Fewer layers rehearse "
                    + "quickly.")
    String cogvlmLayers = Shape.PUBLISHED_VISION_LAYERS + "," + Shape.PUBLISHED_DECODER_LAYERS;

    @Option(names = "--scale", paramLabel = "real|tiny",
            description = "real: the published widths; tiny: every layer at a few channels, same layouts (seconds; "
                    + "for tests). Default: ${DEFAULT-VALUE}.")
    String scale = "real";

    @Option(names = "--steps", description = "Denoising steps (default: ${DEFAULT-VALUE}; PNDM makes one more UNet "
            + "evaluation).")
    int steps = Defaults.STEPS;

    @Option(names = "--frames", description = "Frames sampled from the video (default: ${DEFAULT-VALUE}).")
    int frames = Defaults.FRAMES;

    @Option(names = "--dtype", paramLabel = "f32|bf16",
            description = "Dtype of the converted model (convert --dtype; default: ${DEFAULT-VALUE}).")
    String dtype = "f32";

    @Option(names = "--precision", paramLabel = "fp32|bf16",
            description = "generate --precision (default: ${DEFAULT-VALUE}).")
    String precision = "fp32";

    @Option(names = "--runs", paramLabel = "cold,warm", split = ",",
            description = "generate runs, in order: cold clears the model's black-video cache first, warm keeps "
                    + "what the run before stored (default: ${DEFAULT-VALUE}).")
    List<String> runs = new ArrayList<>(List.of("cold"));

    @Option(names = "--reuse-model",
            description = "Skip convert when DIR/model-<dtype> was converted from these checkpoints by an earlier "
                    + "rehearsal.")
    boolean reuseModel;

    @Option(names = "--keep-going", description = "After a failed generate run, still do the next ones.")
    boolean keepGoing;

    @Option(names = "--seed", description = "Seed of the synthetic weights (default: ${DEFAULT-VALUE}).")
    long seed = 0;

    @Option(names = "--verbose", description = "Print stack traces of errors.")
    boolean verbose;

    /** Disk kept free beyond what the rehearsal writes (outputs, profiles, logs, the cache). */
    static final long MARGIN_BYTES = 512L << 20;
    private static final int CLIP_WIDTH = 640;
    private static final int CLIP_HEIGHT = 360;
    private static final int CLIP_FPS = 24;

    @Override
    public Integer call() throws Exception {
        PrintStream err = System.err;
        Shape shape = shape();
        String modelDtype = switch (dtype) {
            case "f32", "bf16" -> dtype;
            default -> throw new IllegalArgumentException("--dtype must be f32 or bf16, not '" + dtype + "'");
        };
        Precision.parse(precision);
        for (String r : runs) {
            if (!r.equals("cold") && !r.equals("warm")) {
                throw new IllegalArgumentException("--runs takes cold and warm, not '" + r + "'");
            }
        }
        if (steps < 1) throw new IllegalArgumentException("--steps must be at least 1");
        if (frames < 1) throw new IllegalArgumentException("--frames must be at least 1");
        if (video == null && seconds < 1) throw new IllegalArgumentException("--seconds must be at least 1");
        if (Files.exists(work) && !Files.isDirectory(work)) throw new IllegalArgumentException(work + ": not a directory");
        if (video != null) {
            if (!Files.isRegularFile(video)) throw new IllegalArgumentException(video + ": no such video file");
            VideoReader.load(video, frames, Defaults.MAX_DURATION_SEC); // a video generate cannot read fails here
        }
        Files.createDirectories(work);

        Path checkpoints = work.resolve("checkpoints");
        Path model = work.resolve("model-" + modelDtype);
        Path source = work.resolve("model-" + modelDtype + ".source.json");
        boolean checkpointsReusable = ReusableCheckpoints.holds(checkpoints, shape, seed);
        boolean modelReusable = reuseModel && checkpointsReusable && Files.isRegularFile(source)
                && Files.isDirectory(model) && Files.readString(source).equals(sourceNote(shape));
        checkDisk(shape, modelDtype, checkpointsReusable, modelReusable, checkpoints, model);

        JsonObject machine = machine();
        RehearsalReport report = new RehearsalReport(machine, settings(shape, modelDtype));
        Path json = work.resolve("rehearsal.json");
        try {
            Path clip = video != null ? video : makeClip(err);

            // 1. synthetic checkpoints
            err.printf(Locale.ROOT, "v2a rehearse: %s synthetic checkpoints in %s%n",
                    checkpointsReusable ? "reusing the" : "writing", checkpoints);
            ReusableCheckpoints.Result ck = writeCheckpoints(checkpoints, shape, err, report);

            // 2. convert
            boolean converted = convert(ck, model, source, modelDtype, shape, modelReusable, err, report);

            // 3. generate runs
            if (converted) {
                StageFlops flops = stageFlops(model, clip);
                for (String run : runs) {
                    boolean ok = generate(run, clip, model, modelDtype, flops, err, report);
                    if (!ok && !keepGoing) break;
                }
            }
        } finally {
            machine.addProperty("load_average_end", Machine.loadAverage());
            report.write(json);
        }
        System.out.print(report.table());
        System.out.println("v2a rehearse: figures in " + json + (report.failed() ? "; a stage FAILED" : ""));
        return report.failed() ? 1 : 0;
    }

    // ---- options --------------------------------------------------------------------------------------------------

    private Shape shape() {
        Scale s = switch (scale) {
            case "real" -> Scale.REAL;
            case "tiny" -> Scale.TINY;
            default -> throw new IllegalArgumentException("--scale must be real or tiny, not '" + scale + "'");
        };
        String[] f = cogvlmLayers.split(",");
        if (f.length != 2) {
            throw new IllegalArgumentException("--cogvlm-layers takes VISION,DECODER (e.g. 63,31), not '"
                    + cogvlmLayers + "'");
        }
        try {
            return new Shape(s, Integer.parseInt(f[0].trim()), Integer.parseInt(f[1].trim()));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--cogvlm-layers takes two numbers VISION,DECODER, not '"
                    + cogvlmLayers + "'");
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--cogvlm-layers: " + e.getMessage());
        }
    }

    /** What a converted model came from, kept next to it for {@code --reuse-model}. */
    private String sourceNote(Shape shape) {
        JsonObject o = new JsonObject();
        o.addProperty("checkpoints_version", ReusableCheckpoints.VERSION);
        o.addProperty("scale", shape.scale().name());
        o.addProperty("vision_layers", shape.visionLayers());
        o.addProperty("decoder_layers", shape.decoderLayers());
        o.addProperty("seed", seed);
        o.addProperty("dtype", dtype);
        return o + "\n";
    }

    // ---- disk -----------------------------------------------------------------------------------------------------

    /** Refuses, before anything is written, when the work directory's file system cannot hold what will be written. */
    private void checkDisk(Shape shape, String modelDtype, boolean checkpointsReusable, boolean modelReusable,
                           Path checkpoints, Path model) throws IOException {
        long ck = checkpointsReusable ? 0 : UpstreamCheckpoints.dataBytes(shape) - size(checkpoints);
        long converted = modelReusable ? 0 : convertedBytes(shape, modelDtype.equals("f32") ? 4 : 2) - size(model);
        long need = Math.max(0, ck) + Math.max(0, converted) + MARGIN_BYTES;
        long free = Files.getFileStore(work).getUsableSpace();
        String why = checkDisk(need, free, Math.max(0, ck), Math.max(0, converted), modelDtype);
        if (why != null) throw new IllegalArgumentException(work + ": " + why);
    }

    /** The refusal, or null when {@code free} holds {@code need}. */
    static String checkDisk(long need, long free, long checkpointBytes, long modelBytes, String modelDtype) {
        if (free >= need) return null;
        return String.format(Locale.ROOT, "the rehearsal needs %.1f GB of disk (synthetic checkpoints %.1f GB, %s model "
                        + "%.1f GB, outputs %.1f GB) but only %.1f GB are free; nothing was written. Free space, "
                        + "point --work elsewhere, convert to bf16 (--dtype bf16) or use fewer layers (--cogvlm-layers)",
                need / 1e9, checkpointBytes / 1e9, modelDtype, modelBytes / 1e9, MARGIN_BYTES / 1e9, free / 1e9);
    }

    /** Bytes of tensor data {@code convert} writes for {@code shape}: every kept tensor of the three manifests. */
    static long convertedBytes(Shape shape, int bytesPerElement) {
        JsonObject cog = UpstreamCheckpoints.cogvlmConfig(shape);
        Path where = Path.of("config.json");
        Map<String, Long> cogSymbols = ConfigSymbols.cogvlm(cog, where);
        long n = kept(ExpectedTensors.cogvlm(cogSymbols), cogSymbols);
        n += kept(ExpectedTensors.load(ExpectedTensors.UNET), ConfigSymbols.unet(
                UpstreamCheckpoints.unetConfig(shape.scale()), cog.get("hidden_size").getAsLong(), where));
        n += kept(ExpectedTensors.load(ExpectedTensors.VAE), ConfigSymbols.vae(
                UpstreamCheckpoints.vaeConfig(shape.scale()), where));
        return n * bytesPerElement;
    }

    private static long kept(ExpectedTensors m, Map<String, Long> symbols) {
        long n = 0;
        for (ExpectedTensors.Entry e : m.entries()) {
            if (!e.keep()) continue;
            long k = 1;
            for (long d : ExpectedTensors.shape(e, symbols)) k *= d;
            n += k;
        }
        return n;
    }

    // ---- stages ---------------------------------------------------------------------------------------------------

    private ReusableCheckpoints.Result writeCheckpoints(Path dir, Shape shape, PrintStream err, RehearsalReport report)
            throws InterruptedException {
        long total = UpstreamCheckpoints.dataBytes(shape);
        AtomicLong written = new AtomicLong();
        long t0 = System.nanoTime();
        long[] lastLine = {t0};
        long[] peaks = new long[2];
        Thread sampler = selfSampler(peaks);
        ReusableCheckpoints.Result r;
        try {
            r = ReusableCheckpoints.ensure(dir, shape, seed, n -> {
                long w = written.addAndGet(n);
                long now = System.nanoTime();
                if (now - lastLine[0] >= 10_000_000_000L) {
                    lastLine[0] = now;
                    double sec = (now - t0) / 1e9;
                    err.printf(Locale.ROOT, "v2a rehearse: checkpoints %.1f of %.1f GB, %.0f MB/s, %s left%n",
                            w / 1e9, total / 1e9, w / 1e6 / sec,
                            ProgressBar.format(Duration.ofMillis((long) ((total - w) / (w / sec) * 1000))));
                }
            });
        } finally {
            sampler.interrupt();
            sampler.join();
        }
        double sec = r.reused() ? 0 : r.took().toNanos() / 1e9;
        if (!r.reused()) {
            err.printf(Locale.ROOT, "v2a rehearse: checkpoints written: %.2f GB in %.1f s (%.0f MB/s)%n", r.bytes() / 1e9,
                    sec, r.bytes() / 1e6 / Math.max(sec, 1e-3));
        }
        double peak = r.reused() ? Double.NaN
                : ProcessMemory.self().map(m -> (double) m.peakBytes()).orElse(Double.NaN);
        report.add(new RehearsalReport.Row("synthetic checkpoints", false, r.reused() ? "reused" : "written",
                r.reused() ? Double.NaN : sec, Double.NaN, r.reused() ? Double.NaN : peaks[0],
                r.reused() ? Double.NaN : peaks[1], peak, r.bytes()));
        return r;
    }

    /** Samples this process's memory into {@code peaks} (anonymous, file-backed) until interrupted. */
    private static Thread selfSampler(long[] peaks) {
        Thread t = new Thread(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                ProcessMemory.self().ifPresent(m -> {
                    peaks[0] = Math.max(peaks[0], m.anonymousBytes());
                    peaks[1] = Math.max(peaks[1], m.fileBytes());
                });
                try {
                    Thread.sleep(ChildRun.SAMPLE_MILLIS);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "v2a-rehearse-memory");
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** A {@link #seconds} clip at 640×360, 24 fps: a gradient with a moving ball (reused when already there). */
    private Path makeClip(PrintStream err) {
        Path clip = work.resolve(String.format(Locale.ROOT, "clip-%ds-%dx%d.mp4", seconds, CLIP_WIDTH, CLIP_HEIGHT));
        if (Files.isRegularFile(clip)) return clip;
        err.println("v2a rehearse: making " + clip);
        VideoWriter.write(clip, CLIP_WIDTH, CLIP_HEIGHT, CLIP_FPS, seconds * CLIP_FPS, RehearseCommand::clipFrame,
                null, VideoWriter.SAMPLE_RATE);
        return clip;
    }

    static byte[] clipFrame(int i) {
        byte[] rgb = new byte[CLIP_WIDTH * CLIP_HEIGHT * 3];
        double t = (double) i / CLIP_FPS;
        double bx = CLIP_WIDTH * (0.5 + 0.4 * Math.sin(t));
        double by = CLIP_HEIGHT * (0.5 + 0.3 * Math.cos(1.7 * t));
        for (int y = 0; y < CLIP_HEIGHT; y++) {
            for (int x = 0; x < CLIP_WIDTH; x++) {
                int p = 3 * (y * CLIP_WIDTH + x);
                double dx = x - bx;
                double dy = y - by;
                boolean ball = dx * dx + dy * dy < 40 * 40;
                rgb[p] = (byte) (ball ? 230 : 40 + 150 * x / CLIP_WIDTH);
                rgb[p + 1] = (byte) (ball ? 60 : 80 + 120 * y / CLIP_HEIGHT);
                rgb[p + 2] = (byte) (ball ? 40 : 200 - (i % 48));
            }
        }
        return rgb;
    }

    /** Runs convert in a child process (or reuses the model); false when there is no model to generate with. */
    private boolean convert(ReusableCheckpoints.Result ck, Path model, Path source, String modelDtype, Shape shape,
                            boolean reusable, PrintStream err, RehearsalReport report) throws Exception {
        String stage = "convert (" + modelDtype + ")";
        if (reusable) {
            err.println("v2a rehearse: reusing " + model);
            report.add(new RehearsalReport.Row(stage, false, "reused", Double.NaN, Double.NaN, Double.NaN, Double.NaN,
                    Double.NaN, size(model)));
            return true;
        }
        Files.deleteIfExists(source);
        deleteTree(model);
        err.println("v2a rehearse: converting to " + model);
        ChildRun r = ChildRun.run(List.of("convert", "--kandinsky", ck.kandinsky().toString(), "--cogvlm",
                ck.cogvlm().toString(), "--out", model.toString(), "--dtype", modelDtype),
                work.resolve("logs/convert-" + modelDtype + ".log"), err);
        report.add(new RehearsalReport.Row(stage, false, r.ok() ? "ok" : "failed: " + r.failure(),
                r.wall().toNanos() / 1e9, Double.NaN, r.peakAnonymousBytes(), r.peakFileBytes(), r.peakBytes(),
                size(model)));
        if (r.ok()) Files.writeString(source, sourceNote(shape));
        return r.ok();
    }

    private StageFlops stageFlops(Path model, Path clip) {
        CogVlmConfig cog = CogVlmConfig.read(model.resolve("cogvlm/config.json"));
        UNetConfig unet = UNetConfig.read(model.resolve("unet/config.json"));
        VaeConfig vae = VaeConfig.read(model.resolve("vae/config.json"));
        int[] tokens;
        try (LlamaTokenizer t = LlamaTokenizer.load(model.resolve("cogvlm/tokenizer.json"))) {
            tokens = new int[] {1 + t.encode(Defaults.PROMPT).length, 1 + t.encode(Defaults.NEGATIVE_PROMPT).length};
        }
        VideoInfo v = VideoReader.probe(clip, Defaults.MAX_DURATION_SEC);
        int f = vae.scaleFactor();
        return new StageFlops(cog, unet, vae, frames, tokens, Defaults.SPECTROGRAM_HEIGHT / f,
                Video2AudioPipeline.spectrogramWidth(v.durationSec()) / f,
                Video2AudioPipeline.spectrogramWidth(Defaults.WINDOW_SEC) / f);
    }

    /** One generate run in a child process with --profile; its rows come from the profile. */
    private boolean generate(String run, Path clip, Path model, String modelDtype, StageFlops flops, PrintStream err,
                             RehearsalReport report) throws Exception {
        // the rehearsal's own cache folder; a cold run starts without the black-video embedding and the weight-check
        // stamps, as a first run does
        Path cache = work.resolve("cache");
        if (run.equals("cold")) deleteTree(cache);
        String name = modelDtype + "-" + run;
        Path out = work.resolve("out-" + name + ".mp4");
        Path profile = work.resolve("profile-" + name + ".json");
        Files.deleteIfExists(profile);
        long cacheBefore = size(cache);
        err.printf("v2a rehearse: generate (%s, %s black-video cache)%n", modelDtype, run);
        ChildRun r = ChildRun.run(List.of("generate", clip.toString(), "--model", model.toString(), "--out",
                out.toString(), "--overwrite", "--steps", String.valueOf(steps), "--frames", String.valueOf(frames),
                "--precision", precision, "--cache-dir", cache.toString(), "--profile", profile.toString()),
                work.resolve("logs/generate-" + name + ".log"), err);
        List<RehearsalReport.Row> stages = new ArrayList<>();
        double[] peaks = {r.peakAnonymousBytes(), r.peakFileBytes(), r.peakBytes()};
        double flop = Files.isRegularFile(profile) ? stageRows(profile, flops, stages, peaks) : Double.NaN;
        long disk = (Files.isRegularFile(out) ? Files.size(out) : 0) + (Files.isRegularFile(profile) ? Files.size(profile) : 0)
                + size(cache) - cacheBefore;
        double wall = r.wall().toNanos() / 1e9;
        report.add(new RehearsalReport.Row("generate " + run + " (" + modelDtype + ")", false,
                r.ok() ? "ok" : "failed: " + r.failure(), wall, flop, peaks[0], peaks[1], peaks[2], disk));
        stages.forEach(report::add);
        return r.ok();
    }

    /**
     * Rows of the pipeline's stages from a profile written by {@link TraceProfile}; raises {@code peaks} (anonymous,
     * file-backed, total) to the profile's own; returns the FLOP of the stages that ran.
     */
    static double stageRows(Path profile, StageFlops flops, List<RehearsalReport.Row> rows, double[] peaks)
            throws IOException {
        JsonArray events = JsonParser.parseString(Files.readString(profile)).getAsJsonArray();
        Map<Stage, double[]> begin = new EnumMap<>(Stage.class);    // ts, units
        Map<Stage, JsonObject> end = new EnumMap<>(Stage.class);
        Map<Stage, double[]> endTs = new EnumMap<>(Stage.class);
        Map<Stage, Integer> units = new EnumMap<>(Stage.class);
        for (JsonElement el : events) {
            JsonObject e = el.getAsJsonObject();
            String ph = e.get("ph").getAsString();
            JsonObject args = e.has("args") ? e.getAsJsonObject("args") : new JsonObject();
            if (e.has("name") && e.get("name").getAsString().equals(TraceProfile.END)) {
                peaks[0] = Math.max(peaks[0], mb(args, "peak_anonymous_MB"));
                peaks[1] = Math.max(peaks[1], mb(args, "peak_file_MB"));
                peaks[2] = Math.max(peaks[2], mb(args, "peak_rss_MB"));
                continue;
            }
            if (ph.equals("X") && args.has("stage")) {
                Stage s = stage(args.get("stage").getAsString());
                if (s != null) units.merge(s, 1, Integer::sum);
                continue;
            }
            if (!e.has("cat") || !e.get("cat").getAsString().equals(TraceProfile.STAGE)) continue;
            Stage s = stage(e.get("name").getAsString());
            if (s == null) continue;
            if (ph.equals("B")) begin.put(s, new double[] {e.get("ts").getAsDouble(), args.get("units").getAsInt()});
            if (ph.equals("E")) {
                end.put(s, args);
                endTs.put(s, new double[] {e.get("ts").getAsDouble()});
            }
        }
        double total = 0;
        for (Stage s : Stage.values()) {
            if (!begin.containsKey(s)) continue;
            JsonObject a = end.get(s);
            boolean aborted = a == null || a.has("aborted");
            double wall = endTs.containsKey(s) ? (endTs.get(s)[0] - begin.get(s)[0]) / 1e6 : Double.NaN;
            int done = units.getOrDefault(s, 0);
            boolean computed = done > 0;
            double flop = aborted ? Double.NaN : flops.of(s, (int) begin.get(s)[1], computed);
            if (Double.isFinite(flop)) total += flop;
            String status = aborted ? "failed: did not finish (" + done + " of " + (int) begin.get(s)[1] + " units)"
                    : (s == Stage.ENCODE_BLACK_VIDEO || s == Stage.ENCODE_PROMPT) && !computed ? "cached" : "ok";
            rows.add(new RehearsalReport.Row(s.label(), true, status, wall, flop,
                    a == null ? Double.NaN : mb(a, "peak_anonymous_MB"), a == null ? Double.NaN : mb(a, "peak_file_MB"),
                    a == null ? Double.NaN : mb(a, "peak_rss_MB"), Double.NaN));
        }
        return total;
    }

    private static Stage stage(String label) {
        for (Stage s : Stage.values()) if (s.label().equals(label)) return s;
        return null;
    }

    private static double mb(JsonObject args, String key) {
        return args.has(key) ? args.get(key).getAsDouble() * 1e6 : Double.NaN;
    }

    // ---- machine and settings -------------------------------------------------------------------------------------

    private JsonObject settings(Shape shape, String modelDtype) {
        JsonObject s = new JsonObject();
        s.addProperty("work", work.toAbsolutePath().toString());
        s.addProperty("scale", shape.scale().name().toLowerCase(Locale.ROOT));
        s.addProperty("vision_layers", shape.visionLayers());
        s.addProperty("decoder_layers", shape.decoderLayers());
        s.addProperty("dtype", modelDtype);
        s.addProperty("precision", precision);
        s.addProperty("steps", steps);
        s.addProperty("guidance", Defaults.GUIDANCE);
        s.addProperty("frames", frames);
        s.addProperty("video", video == null ? "made: " + seconds + " s, " + CLIP_WIDTH + "x" + CLIP_HEIGHT + ", "
                + CLIP_FPS + " fps" : video.toAbsolutePath().toString());
        JsonArray r = new JsonArray();
        runs.forEach(r::add);
        s.add("runs", r);
        s.addProperty("weights_seed", seed);
        return s;
    }

    static JsonObject machine() {
        JsonObject m = new JsonObject();
        m.addProperty("started", Instant.now().toString());
        m.addProperty("cpu_model", procField("/proc/cpuinfo", "model name"));
        m.addProperty("cores", Runtime.getRuntime().availableProcessors());
        m.addProperty("memory_total", procField("/proc/meminfo", "MemTotal"));
        m.addProperty("load_average_start", Machine.loadAverage());
        m.addProperty("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
                + System.getProperty("os.arch"));
        m.addProperty("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
        for (String v : new String[] {"OMP_NUM_THREADS", "OMP_WAIT_POLICY", "MALLOC_MMAP_THRESHOLD_", "GLIBC_TUNABLES"}) {
            String value = System.getenv(v);
            if (value != null) m.addProperty(v, value);
        }
        return m;
    }

    /** The value of the first {@code field: value} line of a /proc file, or "n/a". */
    private static String procField(String file, String field) {
        try (Stream<String> lines = Files.lines(Path.of(file))) {
            return lines.filter(l -> l.startsWith(field)).map(l -> l.substring(l.indexOf(':') + 1).trim())
                    .findFirst().orElse("n/a");
        } catch (IOException | UncheckedIOException e) {
            return "n/a";
        }
    }

    // ---- files ----------------------------------------------------------------------------------------------------

    private static long size(Path p) {
        if (!Files.exists(p)) return 0;
        try (Stream<Path> s = Files.walk(p)) {
            return s.filter(Files::isRegularFile).mapToLong(f -> {
                try {
                    return Files.size(f);
                } catch (IOException e) {
                    return 0;
                }
            }).sum();
        } catch (IOException e) {
            return 0;
        }
    }

    private static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) return;
        Files.walkFileTree(p, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
                Files.delete(d);
                return FileVisitResult.CONTINUE;
            }
        });
    }
}
