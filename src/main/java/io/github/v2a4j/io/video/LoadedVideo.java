package io.github.v2a4j.io.video;

import java.nio.file.Path;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A video as K4's {@code load_video} sees it: the clip of sampled frames for the model, and where the kept part
 * of the video ends ({@code totalFrames}, the frames {@code [0, totalFrames)} that are muxed with the audio).
 *
 * @param source        the video file (never modified)
 * @param width         frame width in pixels
 * @param height        frame height in pixels
 * @param fps           the container's average frame rate of the video stream (torchvision's {@code video_fps})
 * @param durationSec   {@code min(int(frames/fps), maxDurationSec)}, at least 1
 * @param totalFrames   {@code int(durationSec*fps)}: frames kept for muxing
 * @param frameIndices  the sampled frame numbers, {@code linspace(0, totalFrames-1, n)} truncated
 * @param clip          K4's {@code video_input}: UINT8 {@code (3, T, H, W)}, channels R, G, B, frame t =
 *                      {@code frameIndices[t]} (off-heap, {@code 3·T·H·W} bytes)
 */
public record LoadedVideo(Path source, int width, int height, double fps, int durationSec, int totalFrames,
                          int[] frameIndices, INDArray clip) {}
