package io.github.v2a4j.serve;

import io.github.v2a4j.pipeline.PipelineListener;
import io.github.v2a4j.pipeline.Stage;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * The service's one view of the model: a video file in, the video with its sound track (and the audio and the
 * spectrogram) out. The service opens one generator per worker and calls it from that worker's thread only.
 */
public interface ClipGenerator extends AutoCloseable {

    /** The video with the generated sound track (H.264 + AAC mp4). */
    String RESULT = "result.mp4";
    /** The generated audio, 16-bit mono WAV. */
    String AUDIO = "audio.wav";
    /** The spectrogram image the audio was made from (PNG). */
    String SPECTROGRAM = "spectrogram.png";

    /**
     * Generates the sound track for {@code video} and writes {@link #RESULT}, {@link #AUDIO} and {@link #SPECTROGRAM}
     * into {@code outDir}, each atomically (a crash leaves a file whole or absent).
     *
     * @param listener  stage and step progress, called on this thread
     * @param cancelled polled at stage and denoising-step boundaries; once it answers true the generation stops there
     *                  with a {@link java.util.concurrent.CancellationException}
     * @throws java.util.concurrent.CancellationException when {@code cancelled} said so
     * @throws RuntimeException with a one-line message naming the problem (a broken video, a video under 1 s, …)
     */
    Result generate(Path video, Path outDir, JobOptions options, PipelineListener listener, BooleanSupplier cancelled);

    /** What a finished generation reports besides its files. */
    record Result(double audioSeconds, Map<Stage, Duration> timings) {}

    @Override
    default void close() {}
}
