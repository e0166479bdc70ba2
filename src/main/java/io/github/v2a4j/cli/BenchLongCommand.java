package io.github.v2a4j.cli;

import io.github.v2a4j.bench.Machine;
import io.github.v2a4j.bench.SeamFlux;
import io.github.v2a4j.io.video.VideoReader;
import io.github.v2a4j.io.video.VideoWriter;
import io.github.v2a4j.nn.Precision;
import io.github.v2a4j.pipeline.Defaults;
import io.github.v2a4j.pipeline.GenerationOptions;
import io.github.v2a4j.pipeline.LatentWindows;
import io.github.v2a4j.pipeline.PipelineListener;
import io.github.v2a4j.pipeline.Stage;
import io.github.v2a4j.pipeline.Video2AudioPipeline;
import io.github.v2a4j.pipeline.VideoJob;
import io.github.v2a4j.pipeline.VideoResult;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code v2a bench long}: one long video through the whole pipeline, as {@code generate} runs it, reporting what a
 * long video costs and how its seams sound: each latent window's CogVLM2 pass and denoising time, every stage's time,
 * peak RSS, and the spectral flux at each seam against the median flux elsewhere ({@link SeamFlux}). Runs on any
 * model directory (the demo model by default; a synthetic real-size one for real-size time and memory).
 */
@Command(name = "long", mixinStandardHelpOptions = true,
        description = {"A long video through the whole pipeline: per-window times, stage times, peak RSS, and the "
                + "spectral flux at each window seam against the median elsewhere.",
            "Without --video it makes a synthetic video of --seconds (64x48 at 8 fps, a new scene every 10 s)."})
public final class BenchLongCommand implements Callable<Integer> {

    @Option(names = "--model", paramLabel = "DIR", description = "model directory (default: $V2A_MODEL, else the "
            + "demo model)")
    Path model;

    @Option(names = "--video", paramLabel = "FILE", description = "input video (default: a synthetic one)")
    Path video;

    @Option(names = "--seconds", defaultValue = "60", description = "length of the synthetic video "
            + "(default ${DEFAULT-VALUE})")
    int seconds;

    @Option(names = "--steps", defaultValue = "50", description = "denoising steps (default ${DEFAULT-VALUE})")
    int steps;

    @Option(names = "--frames", defaultValue = "96", description = "frames per window (default ${DEFAULT-VALUE})")
    int frames;

    @Option(names = "--precision", paramLabel = "fp32|bf16", defaultValue = "fp32",
            description = "CogVLM2 and UNet products (default ${DEFAULT-VALUE})")
    String precision;

    @Option(names = "--seed", defaultValue = "0", description = "latents and Griffin-Lim seed (default ${DEFAULT-VALUE})")
    long seed;

    @Override
    public Integer call() throws IOException {
        Precision p = Precision.parse(precision);
        if (seconds < 1) throw new IllegalArgumentException("--seconds must be at least 1, got " + seconds);
        Path work = Files.createTempDirectory("v2a-bench-long");
        try {
            Path input = video != null ? video : syntheticVideo(work.resolve("in.mp4"), seconds);
            Path modelDir = GenerateCommand.modelDir(model, System.err);
            long t0 = System.nanoTime();
            try (Video2AudioPipeline pipeline = Video2AudioPipeline.open(modelDir, p)) {
                int duration = VideoReader.probe(input, Defaults.MAX_DURATION_SEC).durationSec();
                LatentWindows w = pipeline.windows(duration);
                System.out.printf(Locale.ROOT, "long-video bench: %s, %d s of video, %s, %d steps, %d frames per "
                                + "window, %s, model open in %.1f s, load %s%n", modelDir, duration, w, steps, frames,
                        p.name().toLowerCase(Locale.ROOT), (System.nanoTime() - t0) / 1e9, Machine.loadAverage());
                GenerationOptions options = GenerationOptions.defaults().withSteps(steps).withFrames(frames)
                        .withSeed(seed);
                Path png = work.resolve("out.png");
                VideoResult r = pipeline.generateVideo(VideoJob.of(input, work.resolve("out.mp4")).withSpectrogram(png),
                        options, new Report(), () -> false);
                System.out.printf(Locale.ROOT, "%.2f s of audio in %s, peak RSS (VmHWM) %.2f GB, load %s%n",
                        r.audioSeconds(), ProgressBar.format(r.total()), Machine.memoryGb("VmHWM"),
                        Machine.loadAverage());
                seams(ImageIO.read(png.toFile()), w, Video2AudioPipeline.spectrogramWidth(duration) / w.width());
            }
        } finally {
            deleteTree(work);
        }
        return 0;
    }

    /** Stage ends and each window's share, on stdout. */
    private static final class Report implements PipelineListener {
        @Override
        public void window(Stage stage, int window, int windows, double fromSec, double toSec, Duration took) {
            System.out.printf(Locale.ROOT, "  %s, window %d/%d (%.2f-%.2f s): %.2f s%n", stage.label(), window,
                    windows, fromSec, toSec, took.toNanos() / 1e9);
        }

        @Override
        public void finished(Stage stage, Duration took) {
            System.out.printf(Locale.ROOT, "%s: %.2f s, RSS %.2f GB%n", stage.label(), took.toNanos() / 1e9,
                    Machine.memoryGb("VmRSS"));
        }
    }

    private static void seams(BufferedImage spectrogram, LatentWindows w, int columnsPerLatent) {
        if (w.count() == 1) {
            System.out.println("one window: no seam");
            return;
        }
        // a window's start and the previous window's end bound each overlap
        int[] seams = new int[2 * (w.count() - 1)];
        for (int k = 1; k < w.count(); k++) {
            seams[2 * k - 2] = w.start(k) * columnsPerLatent;
            seams[2 * k - 1] = w.end(k - 1) * columnsPerLatent;
        }
        double[] m = SeamFlux.measure(spectrogram, seams);
        System.out.printf(Locale.ROOT, "seams: largest spectral flux within %d columns of a seam / median elsewhere "
                + "%.2f (95th percentile elsewhere / median %.2f)%n", SeamFlux.REACH, m[0], m[1]);
    }

    /** 64×48 at 8 fps; each 10 s a different scene, within a scene a pattern that moves every frame. */
    static Path syntheticVideo(Path file, int seconds) {
        int width = 64;
        int height = 48;
        int fps = 8;
        VideoWriter.write(file, width, height, fps, seconds * fps, i -> {
            int scene = i / (10 * fps);
            byte[] rgb = new byte[width * height * 3];
            for (int y = 0, q = 0; y < height; y++) {
                for (int x = 0; x < width; x++) {
                    rgb[q++] = (byte) (scene * 70 + x * 3 + i);
                    rgb[q++] = (byte) (scene * 40 + y * 4);
                    rgb[q++] = (byte) ((x + y + 2 * i) * (scene + 1));
                }
            }
            return rgb;
        }, null, 44100);
        return file;
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(q);
        } catch (IOException e) {
            throw new UncheckedIOException(dir + ": cannot remove the bench's temporary folder", e);
        }
    }
}
