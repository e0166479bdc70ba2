package io.github.v2a4j.io.video;

import java.nio.file.Path;
import java.util.List;
import org.bytedeco.javacpp.BytePointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

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
 * @param clipFrames    the sampled frames, each {@code H*W*3} bytes, RGB interleaved (HWC), one per index
 */
public record LoadedVideo(Path source, int width, int height, double fps, int durationSec, int totalFrames,
                          int[] frameIndices, List<byte[]> clipFrames) {

    /** The clip as K4's {@code video_input}: UINT8 {@code (3, T, H, W)}, channel order R, G, B. */
    public INDArray clipTensor() {
        int t = clipFrames.size();
        long plane = (long) width * height;
        INDArray out = Nd4j.create(DataType.UINT8, new long[] {3, t, height, width}, 'c');
        BytePointer dst = new BytePointer(out.data().addressPointer());
        byte[] channel = new byte[(int) plane];
        for (int f = 0; f < t; f++) {
            byte[] rgb = clipFrames.get(f);
            for (int c = 0; c < 3; c++) {
                for (int i = 0, j = c; i < plane; i++, j += 3) channel[i] = rgb[j];
                dst.position((c * (long) t + f) * plane).put(channel, 0, channel.length);
            }
        }
        return out;
    }
}
