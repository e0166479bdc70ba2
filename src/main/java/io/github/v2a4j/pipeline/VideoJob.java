package io.github.v2a4j.pipeline;

import java.nio.file.Path;

/**
 * One video in, one video out: what {@link Video2AudioPipeline#generateVideo} writes.
 *
 * @param input       the video to read (any format FFmpeg reads); never written
 * @param output      the video to write (H.264 + AAC mp4)
 * @param keepVideo   false (K4's {@code create_video}): the frames used, re-timed to the audio's length; true: the
 *                    input's video stream copied untouched, the audio padded or cut to its length
 * @param wav         also write the audio as 16-bit WAV here (null: not)
 * @param spectrogram also write the spectrogram image as PNG here (null: not)
 * @param overwrite   replace existing output files (otherwise an existing one is an error before any work)
 */
public record VideoJob(Path input, Path output, boolean keepVideo, Path wav, Path spectrogram, boolean overwrite) {

    public VideoJob {
        if (input == null || output == null) throw new IllegalArgumentException("a video job needs input and output");
    }

    /** {@code input} → {@code output}, re-timed as the reference muxes, no other files, nothing replaced. */
    public static VideoJob of(Path input, Path output) {
        return new VideoJob(input, output, false, null, null, false);
    }

    public VideoJob withKeepVideo(boolean keep) {
        return new VideoJob(input, output, keep, wav, spectrogram, overwrite);
    }

    public VideoJob withWav(Path file) {
        return new VideoJob(input, output, keepVideo, file, spectrogram, overwrite);
    }

    public VideoJob withSpectrogram(Path file) {
        return new VideoJob(input, output, keepVideo, wav, file, overwrite);
    }

    public VideoJob withOverwrite(boolean replace) {
        return new VideoJob(input, output, keepVideo, wav, spectrogram, replace);
    }
}
