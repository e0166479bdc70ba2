package io.github.v2a4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import io.github.v2a4j.faults.Corrupt;
import io.github.v2a4j.io.video.VideoReader;
import io.github.v2a4j.io.video.VideoWriter;
import io.github.v2a4j.pipeline.Defaults;
import io.github.v2a4j.pipeline.Stage;
import io.github.v2a4j.pipeline.TraceEvents;
import io.github.v2a4j.pipeline.TraceProfile;
import io.github.v2a4j.synthetic.DemoModel;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code v2a generate} end to end on a tiny model, and every bad input of the issue: each gives one line
 * {@code v2a: error: …} naming the problem, exit 1, and leaves no output file behind.
 */
class GenerateCommandTest {

    @TempDir
    static Path dir;

    static Path model;
    static Path video;

    @BeforeAll
    static void setUp() throws Exception {
        model = dir.resolve("model");
        DemoModel.write(model);
        video = dir.resolve("in.mp4");
        makeVideo(video, 2.0, 12);
    }

    static void makeVideo(Path file, double seconds, double fps) {
        int frames = (int) Math.round(seconds * fps);
        VideoWriter.write(file, 48, 32, fps, frames, i -> {
            byte[] rgb = new byte[48 * 32 * 3];
            for (int p = 0; p < 48 * 32; p++) {
                rgb[3 * p] = (byte) (i * 20);
                rgb[3 * p + 1] = (byte) (p % 48 * 5);
                rgb[3 * p + 2] = (byte) (p / 48 * 7);
            }
            return rgb;
        }, null, 44100);
    }

    record Run(int exit, String out, String err) {}

    static Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            int code = Main.commandLine().setErr(new java.io.PrintWriter(System.err, true)).execute(args);
            return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    static List<String> filesIn(Path d) throws Exception {
        List<String> names = new ArrayList<>();
        try (Stream<Path> s = Files.list(d)) {
            s.forEach(p -> names.add(p.getFileName().toString()));
        }
        return names;
    }

    /** Runs generate expecting one error line containing {@code message}, and nothing written to {@code outDir}. */
    static void assertFails(Path outDir, String message, String... args) throws Exception {
        Files.createDirectories(outDir);
        List<String> before = filesIn(outDir);
        Run r = run(args);
        assertThat(r.exit()).as(r.err()).isEqualTo(1);
        String last = r.err().strip().lines().reduce((a, b) -> b).orElse("");
        assertThat(last).startsWith("v2a: error: ").contains(message);
        assertThat(r.err()).doesNotContain("\tat ");
        assertThat(filesIn(outDir)).containsExactlyInAnyOrderElementsOf(before);
    }

    @Test
    void writesAnMp4WithAacAudioOfTheClipsLength() throws Exception {
        Path out = dir.resolve("ok/out.mp4");
        Files.createDirectories(out.getParent());
        Path wav = dir.resolve("ok/out.wav");
        Path png = dir.resolve("ok/out.png");
        Run r = run("generate", video.toString(), "--model", model.toString(), "--out", out.toString(),
                "--steps", "2", "--frames", "4", "--target-dbfs", "-24", "--save-wav", wav.toString(),
                "--save-spectrogram", png.toString(),
                "--dump", "_encode_conditions.*,scheduler.step*.out.0",
                "--attention-map", "up_blocks.3.attentions.2.transformer_blocks.0.attn1");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("wrote " + out);
        // one window, the whole 1.92 s of sound: no per-window lines (a longer video's are in LongVideoTest)
        assertThat(r.err()).doesNotContain(", window ");
        assertThat(out).isRegularFile();
        assertThat(wav).isRegularFile();
        assertThat(png).isRegularFile();
        // 2 s clip → 200 // 32 · 32 = 192 spectrogram columns → 441 · 191 samples
        var audio = io.github.v2a4j.io.WavFile.read(wav);
        assertThat(audio.sampleRate).isEqualTo(44100);
        assertThat(audio.samples.length).isEqualTo(441 * 191);
        assertThat(io.github.v2a4j.audio.Pcm.dBFS(audio.samples)).isCloseTo(-24, org.assertj.core.data.Offset.offset(0.1));
        var loaded = VideoReader.load(out, 96, 12);
        assertThat(loaded.durationSec()).isEqualTo(1); // re-timed to the 1.91 s of audio
        assertThat(filesIn(out.getParent())).containsExactlyInAnyOrder("out.mp4", "out.wav", "out.png",
                "out.mp4.dump.safetensors", "out.mp4.attention.png");
        try (var dumped = io.github.v2a4j.io.Safetensors.open(out.getParent().resolve("out.mp4.dump.safetensors"))) {
            // 2 steps → 3 PNDM evaluations (skip_prk_steps repeats the first timestep)
            assertThat(dumped.names()).containsExactlyInAnyOrder("_encode_conditions.out.0", "_encode_conditions.out.1",
                    "scheduler.step.out.0", "scheduler.step@1.out.0", "scheduler.step@2.out.0");
            assertThat(dumped.info("_encode_conditions.out.1").shape()).containsExactly(2, 4, DemoModel.HIDDEN);
        }
        var map = javax.imageio.ImageIO.read(out.getParent().resolve("out.mp4.attention.png").toFile());
        assertThat(map.getHeight()).isEqualTo(4 * 4); // 4 frames, 4 px each
        assertThat(map.getWidth()).isEqualTo(4 * 24); // 192 columns / 8 latent columns, 4 px each

        // an existing output is not replaced without --overwrite
        assertFails(out.getParent(), "already exists", "generate", video.toString(), "--model", model.toString(),
                "--out", out.toString());
    }

    @Test
    void profileOfATinyRunIsATraceEventFileWithStagesLayersStepsAndMemory() throws Exception {
        Path out = dir.resolve("profiled/out.mp4");
        Files.createDirectories(out.getParent());
        Path profile = dir.resolve("profiled/run.json");
        // an empty black-video cache, so that every CogVLM2 pass runs whatever test ran before
        deleteTree(io.github.v2a4j.io.CacheDir.besideModel(model));
        Run r = run("generate", video.toString(), "--model", model.toString(), "--out", out.toString(),
                "--steps", "2", "--frames", "4", "--profile", profile.toString());
        assertThat(r.exit()).as(r.err()).isZero();
        List<JsonObject> events = TraceEvents.valid(profile);
        assertThat(events).filteredOn(e -> e.get("ph").getAsString().equals("M")).extracting(e -> e.get("name").getAsString())
                .containsExactlyInAnyOrder("process_name", "thread_name", "thread_name");
        // one window: its video pass on the window track, its share of denoising as an instant event there
        List<JsonObject> windowEvents = events.stream().filter(e -> e.has("tid") && e.get("tid").getAsLong() == 2
                && !e.get("ph").getAsString().equals("M")).toList();
        assertThat(windowEvents).extracting(e -> e.get("ph").getAsString() + " " + e.get("name").getAsString())
                .containsExactly("X encoding video, window 1/1", "i denoising, window 1/1");
        assertThat(windowEvents).allMatch(e -> e.get("cat").getAsString().equals(TraceProfile.WINDOW)
                && e.getAsJsonObject("args").get("from_s").getAsDouble() == 0
                && e.getAsJsonObject("args").get("to_s").getAsDouble() == 1.92
                && e.getAsJsonObject("args").get("seconds").getAsDouble() > 0);
        events = events.stream().filter(e -> !windowEvents.contains(e)).toList();

        // every stage, in the pipeline's order, as a B/E pair with its peak resident memory
        String[] labels = Stream.of(Stage.values()).map(Stage::label).toArray(String[]::new);
        assertThat(events).filteredOn(e -> e.get("ph").getAsString().equals("B")).extracting(e -> e.get("name").getAsString())
                .containsExactly(labels);
        assertThat(events).filteredOn(e -> e.get("ph").getAsString().equals("E")).extracting(e -> e.get("name").getAsString())
                .containsExactly(labels);
        assertThat(events).filteredOn(e -> e.get("ph").getAsString().equals("E"))
                .allMatch(e -> e.getAsJsonObject("args").get("peak_rss_MB").getAsDouble() > 0
                        && e.getAsJsonObject("args").get("peak_anonymous_MB").getAsDouble() > 0
                        && !e.getAsJsonObject("args").has("aborted"));

        // the units of each stage as X events inside its B/E pair; the demo model runs 2 vision layers, the adapter
        // and 2 decoder layers per video pass, 2 decoder layers for both prompts at once, and 2 PNDM steps make 3
        // UNet evaluations
        Map<String, List<String>> units = new LinkedHashMap<>();
        String open = null;
        double openedAt = 0;
        for (JsonObject e : events) {
            String ph = e.get("ph").getAsString();
            if (ph.equals("B")) {
                open = e.get("name").getAsString();
                openedAt = e.get("ts").getAsDouble();
                units.put(open, new ArrayList<>());
            } else if (ph.equals("E")) {
                open = null;
            } else if (ph.equals("X")) {
                assertThat(open).as("unit outside a stage: " + e).isNotNull();
                assertThat(e.getAsJsonObject("args").get("stage").getAsString()).isEqualTo(open);
                assertThat(e.get("ts").getAsDouble()).isGreaterThanOrEqualTo(openedAt);
                assertThat(e.get("cat").getAsString()).isEqualTo(
                        open.equals(Stage.DENOISE.label()) ? TraceProfile.STEP : TraceProfile.LAYER);
                units.get(open).add(e.get("name").getAsString());
            }
        }
        List<String> videoPass = List.of("vision layer 1/2", "vision layer 2/2", "adapter", "decoder layer 1/2",
                "decoder layer 2/2");
        assertThat(units.get(Stage.ENCODE_PROMPT.label())).containsExactly("decoder layer 1/2", "decoder layer 2/2");
        assertThat(units.get(Stage.ENCODE_VIDEO.label())).containsExactlyElementsOf(videoPass);
        assertThat(units.get(Stage.ENCODE_BLACK_VIDEO.label())).containsExactlyElementsOf(videoPass);
        assertThat(units.get(Stage.DENOISE.label())).containsExactly("step 1/3", "step 2/3", "step 3/3");
        for (Stage s : new Stage[] {Stage.LOAD_VIDEO, Stage.VAE_DECODE, Stage.AUDIO, Stage.MUX}) {
            assertThat(units.get(s.label())).as(s.label()).isEmpty();
        }

        // resident memory as counters: one at the start, one at every stage boundary and unit, the sampler's between
        long counters = events.stream().filter(e -> e.get("ph").getAsString().equals("C")).count();
        long boundaries = 2L * Stage.values().length + units.values().stream().mapToLong(List::size).sum();
        assertThat(counters).isGreaterThanOrEqualTo(1 + boundaries);
        assertThat(events).filteredOn(e -> e.get("ph").getAsString().equals("C"))
                .allMatch(e -> e.get("name").getAsString().equals("RSS")
                        && e.getAsJsonObject("args").get("anonymous MB").getAsDouble() > 0
                        && e.getAsJsonObject("args").get("file-backed MB").getAsDouble() >= 0);
        JsonObject last = events.get(events.size() - 1);
        assertThat(last.get("name").getAsString()).isEqualTo(TraceProfile.END);
        assertThat(last.getAsJsonObject("args").get("peak_rss_MB").getAsDouble()).isPositive();

        // an existing profile is an output like the others
        assertFails(dir.resolve("profiled2"), "already exists", "generate", video.toString(), "--model", model.toString(),
                "--out", dir.resolve("profiled2/out.mp4").toString(), "--profile", profile.toString());
    }

    static void deleteTree(Path p) throws Exception {
        if (!Files.exists(p)) return;
        try (Stream<Path> s = Files.walk(p)) {
            for (Path f : s.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(f);
        }
    }

    @Test
    void missingVideo() throws Exception {
        Path outDir = dir.resolve("e1");
        assertFails(outDir, "no such video file", "generate", dir.resolve("nope.mp4").toString(),
                "--model", model.toString(), "--out", outDir.resolve("o.mp4").toString());
    }

    @Test
    void unreadableVideo() throws Exception {
        Path outDir = dir.resolve("e2");
        Path garbage = dir.resolve("garbage.mp4");
        Files.write(garbage, "this is not a video".getBytes(StandardCharsets.UTF_8));
        assertFails(outDir, "garbage.mp4", "generate", garbage.toString(), "--model", model.toString(),
                "--out", outDir.resolve("o.mp4").toString());
    }

    @Test
    void noVideoStream() throws Exception {
        Path outDir = dir.resolve("e3");
        Path audioOnly = dir.resolve("audio-only.mp4");
        VideoWriter.write(audioOnly, 0, 0, 0, 0, i -> null, new short[44100 * 2], 44100);
        assertFails(outDir, "no video stream", "generate", audioOnly.toString(), "--model", model.toString(),
                "--out", outDir.resolve("o.mp4").toString());
    }

    @Test
    void videoShorterThanOneSecond() throws Exception {
        Path outDir = dir.resolve("e4");
        Path shortVideo = dir.resolve("short.mp4");
        makeVideo(shortVideo, 0.5, 12);
        assertFails(outDir, "too short", "generate", shortVideo.toString(), "--model", model.toString(),
                "--out", outDir.resolve("o.mp4").toString());
    }

    @Test
    void unwritableOutput() throws Exception {
        Path outDir = dir.resolve("e5");
        assertFails(outDir, "no such directory", "generate", video.toString(), "--model", model.toString(),
                "--out", outDir.resolve("missing/o.mp4").toString());
    }

    @Test
    void outputOverTheInput() throws Exception {
        assertFails(dir.resolve("e6"), "overwrite the input", "generate", video.toString(), "--model",
                model.toString(), "--out", video.toString(), "--overwrite");
    }

    @Test
    void modelWithAMisShapedAndAMissingTensor() throws Exception {
        Path broken = dir.resolve("broken-model");
        DemoModel.write(broken);
        // rewrite the UNet weights without conv_in.bias and with conv_out.weight of the wrong shape
        Path file = broken.resolve("unet/model.safetensors");
        var w = new io.github.v2a4j.io.SafetensorsWriter();
        try (var src = io.github.v2a4j.io.Safetensors.open(file)) {
            for (String n : src.names()) {
                if (n.equals("conv_in.bias")) continue;
                if (n.equals("conv_out.weight")) {
                    w.putFloat(n, new float[4 * 7 * 3 * 3], 4, 7, 3, 3);
                } else {
                    w.put(n, src.loadFloat(n));
                }
            }
        }
        w.write(dir.resolve("tmp.safetensors"));
        Files.move(dir.resolve("tmp.safetensors"), file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Path outDir = dir.resolve("e7");
        Files.createDirectories(outDir);
        Run r = run("generate", video.toString(), "--model", broken.toString(), "--out",
                outDir.resolve("o.mp4").toString());
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("v2a: error: ").contains("missing").contains("conv_in.bias")
                .contains("wrong shape").contains("conv_out.weight")
                .contains("UNet weights " + broken.resolve("unet") + " do not match the model") // which component
                .contains("(model.safetensors)"); // and which file
        assertThat(filesIn(outDir)).isEmpty();
    }

    @Test
    void promptThatIsNotUtf8() throws Exception {
        // what the JVM hands over for argument bytes that are not UTF-8: U+FFFD replacement characters
        Path outDir = dir.resolve("e8");
        assertFails(outDir, "not valid UTF-8", "generate", video.toString(), "--model", model.toString(),
                "--out", outDir.resolve("o.mp4").toString(), "--prompt", "bad \uFFFD bytes");
    }

    @Test
    void aVideoLongerThan12sIsDenoisedInWindowsWithEachWindowsTimeInTheProgressAndTheProfile() throws Exception {
        Path longVideo = dir.resolve("long14s.mp4");
        makeVideo(longVideo, 14.0, 4);
        Path out = dir.resolve("long/out.mp4");
        Files.createDirectories(out.getParent());
        Path profile = dir.resolve("long/run.json");
        Run r = run("generate", longVideo.toString(), "--model", model.toString(), "--out", out.toString(),
                "--steps", "1", "--frames", "4", "--profile", profile.toString());
        assertThat(r.exit()).as(r.err()).isZero();
        // 14 s: 1376 spectrogram columns (a multiple of 32), 172 latent columns, two windows of 148 (0-11.84 s and
        // 1.92-13.76 s)
        assertThat(r.err()).contains("encoding video, window 1/2 (0.00-11.84 s of sound): ")
                .contains("encoding video, window 2/2 (1.92-13.76 s of sound): ")
                .contains("denoising, window 1/2 (0.00-11.84 s of sound): ")
                .contains("denoising, window 2/2 (1.92-13.76 s of sound): ");
        assertThat(VideoReader.probe(out, 60).durationSec()).isEqualTo(13);
        List<JsonObject> windowEvents = TraceEvents.valid(profile).stream()
                .filter(e -> TraceProfile.WINDOW.equals(e.has("cat") ? e.get("cat").getAsString() : null)).toList();
        assertThat(windowEvents).extracting(e -> e.get("ph").getAsString() + " " + e.get("name").getAsString())
                .containsExactly("X encoding video, window 1/2", "X encoding video, window 2/2",
                        "i denoising, window 1/2", "i denoising, window 2/2");
    }

    @Test
    void zeroFps() throws Exception {
        // a raw MJPEG stream carries no timing, so no frame rate of its own
        Path mjpeg = dir.resolve("raw.mjpeg");
        try (var rec = new org.bytedeco.javacv.FFmpegFrameRecorder(mjpeg.toFile(), 48, 32, 0)) {
            rec.setFormat("mjpeg");
            rec.setVideoCodec(org.bytedeco.ffmpeg.global.avcodec.AV_CODEC_ID_MJPEG);
            rec.setFrameRate(10);
            rec.start();
            for (int i = 0; i < 20; i++) {
                rec.recordImage(48, 32, 8, 3, 48 * 3, org.bytedeco.ffmpeg.global.avutil.AV_PIX_FMT_RGB24,
                        java.nio.ByteBuffer.wrap(new byte[48 * 32 * 3]));
            }
            rec.stop();
        }
        Path outDir = dir.resolve("e9");
        assertFails(outDir, "unknown frame rate", "generate", mjpeg.toString(), "--model", model.toString(),
                "--out", outDir.resolve("o.mp4").toString());

        // a zero media time scale: a frame rate with no relation to the video
        Path zero = dir.resolve("zero-timescale.mp4");
        makeVideo(zero, 2.0, 12);
        Corrupt.setTimeScale(zero, 0);
        assertFails(outDir, zero + ": the frame rate is unusable: ", "generate", zero.toString(), "--model",
                model.toString(), "--out", outDir.resolve("o.mp4").toString());
    }

    @Test
    void helpShowsTheDefaultsKeptInOnePlace() {
        Run r = run("generate", "--help");
        assertThat(r.exit()).isZero();
        String help = r.out().replaceAll("\\s+", " "); // picocli wraps long lines
        assertThat(help).contains("(default: \"" + Defaults.PROMPT + "\")")
                .contains("(default: " + Defaults.STEPS + ";").contains("(default: " + Defaults.FRAMES + ")")
                .contains("(default: the whole video").contains("(default: -30)")
                .contains("Griffin-Lim iterations (default 32)").contains("DDIMScheduler");
    }

    @Test
    void unknownScheduler() throws Exception {
        Path outDir = dir.resolve("e10");
        assertFails(outDir, "unknown scheduler 'euler' (known: PNDMScheduler, DDIMScheduler)", "generate",
                video.toString(), "--model", model.toString(), "--out", outDir.resolve("o.mp4").toString(),
                "--scheduler", "euler");
    }
}
