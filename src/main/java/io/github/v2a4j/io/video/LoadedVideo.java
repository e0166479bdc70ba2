package io.github.v2a4j.io.video;

import java.nio.file.Path;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A clip sampled from a video as K4's {@code load_video} samples it.
 *
 * @param info         the video and the stretch of it that is kept
 * @param frameIndices the sampled frame numbers, {@code linspace} over the sampled stretch truncated
 * @param clip         K4's {@code video_input}: UINT8 {@code (3, T, H, W)}, channels R, G, B, frame t =
 *                     {@code frameIndices[t]} (off-heap, {@code 3·T·H·W} bytes)
 */
public record LoadedVideo(VideoInfo info, int[] frameIndices, INDArray clip) {

    public Path source() {
        return info.source();
    }

    public int width() {
        return info.width();
    }

    public int height() {
        return info.height();
    }

    public double fps() {
        return info.fps();
    }

    public int durationSec() {
        return info.durationSec();
    }

    public int totalFrames() {
        return info.totalFrames();
    }
}
