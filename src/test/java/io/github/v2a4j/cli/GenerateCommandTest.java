package io.github.v2a4j.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.v2a4j.io.video.VideoReader;
import io.github.v2a4j.io.video.VideoWriter;
import io.github.v2a4j.pipeline.Defaults;
import io.github.v2a4j.synthetic.DemoModel;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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
                "--attention-map", "up_blocks.3.attentions.2.transformer_blocks.0.attn1", "--profile");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("wrote " + out);
        // one window, the whole 1.92 s of sound
        assertThat(r.err()).contains("encoding video, window 1/1 (0.00-1.92 s of sound): ")
                .contains("denoising, window 1/1 (0.00-1.92 s of sound): ");
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
                .contains("wrong shape").contains("conv_out.weight");
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
    void zeroFps() throws Exception {
        // a NUT file holding one frame: no frame duration to average over, so its average frame rate is 0/0
        Path nut = dir.resolve("one-frame.nut");
        try (var rec = new org.bytedeco.javacv.FFmpegFrameRecorder(nut.toFile(), 48, 32, 0)) {
            rec.setFormat("nut");
            rec.setVideoCodec(org.bytedeco.ffmpeg.global.avcodec.AV_CODEC_ID_MJPEG);
            rec.setFrameRate(10);
            rec.start();
            rec.recordImage(48, 32, 8, 3, 48 * 3, org.bytedeco.ffmpeg.global.avutil.AV_PIX_FMT_RGB24,
                    java.nio.ByteBuffer.wrap(new byte[48 * 32 * 3]));
            rec.stop();
        }
        Path outDir = dir.resolve("e9");
        assertFails(outDir, "frame rate", "generate", nut.toString(), "--model", model.toString(),
                "--out", outDir.resolve("o.mp4").toString());
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
