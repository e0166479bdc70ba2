package io.github.v2a4j.serve;

import io.github.v2a4j.io.WavFile;
import io.github.v2a4j.io.video.LoadedVideo;
import io.github.v2a4j.io.video.VideoReader;
import io.github.v2a4j.io.video.VideoWriter;
import io.github.v2a4j.nn.Trace;
import io.github.v2a4j.pipeline.GenerationResult;
import io.github.v2a4j.pipeline.PipelineListener;
import io.github.v2a4j.pipeline.Stage;
import io.github.v2a4j.pipeline.Video2AudioPipeline;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.function.BooleanSupplier;
import javax.imageio.ImageIO;

/**
 * {@link ClipGenerator} on {@link Video2AudioPipeline}, doing what {@code v2a generate} does: read the video as K4's
 * {@code load_video}, generate, mux (re-timed frames, or the kept video stream), write the WAV and the spectrogram.
 *
 * <p>Cancellation: the pipeline has no cancellation hook of its own, so the listener handed to it throws a
 * {@link CancellationException} at the first stage or denoising-step boundary after {@code cancelled} turns true.
 * A stage without steps (a CogVLM2 pass, the VAE, Griffin-Lim) runs to its end first.
 */
public final class PipelineClipGenerator implements ClipGenerator {

    private final Video2AudioPipeline pipeline;

    private PipelineClipGenerator(Video2AudioPipeline pipeline) {
        this.pipeline = pipeline;
    }

    /** Opens the model directory once; every tensor is checked here, before any job runs. */
    public static PipelineClipGenerator open(Path modelDir) {
        return new PipelineClipGenerator(Video2AudioPipeline.open(modelDir));
    }

    @Override
    public Result generate(Path video, Path outDir, JobOptions options, PipelineListener listener,
                           BooleanSupplier cancelled) {
        PipelineListener checked = new Cancellable(listener, cancelled);
        Map<Stage, Duration> timings = new EnumMap<>(Stage.class);

        long t0 = System.nanoTime();
        checked.started(Stage.LOAD_VIDEO, 1);
        LoadedVideo loaded = VideoReader.load(video, VideoReader.K4_NUM_FRAMES, options.maxDuration());
        timings.put(Stage.LOAD_VIDEO, Duration.ofNanos(System.nanoTime() - t0));
        checked.finished(Stage.LOAD_VIDEO, timings.get(Stage.LOAD_VIDEO));

        GenerationResult r = pipeline.generate(loaded.clip(), loaded.durationSec(), options.generationOptions(),
                checked, Trace.OFF);
        timings.putAll(r.timings());

        long m0 = System.nanoTime();
        checked.started(Stage.MUX, 1);
        Path result = outDir.resolve(RESULT);
        if (options.keepVideo()) {
            VideoWriter.muxKeepVideo(video, r.pcm(), r.sampleRate(), result);
        } else {
            VideoWriter.muxRetimed(loaded, r.pcm(), r.sampleRate(), result);
        }
        try {
            new WavFile(r.sampleRate(), 1, r.pcm()).write(outDir.resolve(AUDIO), true);
            writePng(r.spectrogram(), outDir.resolve(SPECTROGRAM));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the results: " + e.getMessage(), e);
        }
        timings.put(Stage.MUX, Duration.ofNanos(System.nanoTime() - m0));
        listener.finished(Stage.MUX, timings.get(Stage.MUX));
        return new Result(r.audioSeconds(), timings);
    }

    private static void writePng(BufferedImage image, Path target) throws IOException {
        Path tmp = Files.createTempFile(target.getParent(), ".v2a-", ".png.tmp");
        try {
            if (!ImageIO.write(image, "png", tmp.toFile())) throw new IOException("no PNG writer");
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    @Override
    public void close() {
        pipeline.close();
    }

    /** Passes progress on, and stops the generation at the first boundary after a cancellation was asked for. */
    private record Cancellable(PipelineListener listener, BooleanSupplier cancelled) implements PipelineListener {

        private void check() {
            if (cancelled.getAsBoolean()) throw new CancellationException("cancelled");
        }

        @Override
        public void started(Stage stage, int units) {
            check();
            listener.started(stage, units);
        }

        @Override
        public void progress(Stage stage, int done, int units) {
            listener.progress(stage, done, units);
            check();
        }

        @Override
        public void finished(Stage stage, Duration took) {
            listener.finished(stage, took);
            check();
        }
    }
}
