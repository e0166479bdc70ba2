package io.github.v2a4j.pipeline;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * What {@link Video2AudioPipeline#generateVideo} wrote.
 *
 * @param video        the output video
 * @param wav          the WAV file, or null
 * @param spectrogram  the spectrogram PNG, or null
 * @param videoSeconds the stretch of the input used ({@code load_video}'s duration)
 * @param audioSeconds the generated audio's length (10 ms per spectrogram column)
 * @param sampleRate   of the audio
 * @param timings      wall time per stage, reading and writing included
 */
public record VideoResult(Path video, Path wav, Path spectrogram, int videoSeconds, double audioSeconds,
                          int sampleRate, Map<Stage, Duration> timings) {

    /** The sum of the stage times. */
    public Duration total() {
        return timings.values().stream().reduce(Duration.ZERO, Duration::plus);
    }
}
