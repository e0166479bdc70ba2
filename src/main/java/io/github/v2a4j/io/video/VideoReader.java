package io.github.v2a4j.io.video;

import static org.bytedeco.ffmpeg.global.avformat.AVFMT_NOTIMESTAMPS;
import static org.bytedeco.ffmpeg.global.avutil.AV_PIX_FMT_RGB24;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.bytedeco.ffmpeg.avutil.AVRational;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacv.FFmpegFrameGrabber;
import org.bytedeco.javacv.Frame;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Decodes videos with FFmpeg (JavaCV) the way K4 reads them with {@code torchvision.io.read_video} + {@code load_video}.
 *
 * <p>torchvision decodes every frame of the first video stream (PyAV) and reports {@code video_fps} as the stream's
 * average frame rate; {@code load_video} then keeps {@code int(min(int(N/fps), 12)·fps)} frames and samples 96 of
 * them with {@code np.linspace(..., dtype=int)}. Here the frames are counted in a first pass (without colour
 * conversion, stopping once 12 s are reached) and only the sampled frames are converted, straight into the clip
 * tensor, in a second pass, so a long video never sits in memory; the kept frames are streamed again when muxing.
 */
public final class VideoReader {

    static {
        FfmpegLog.install();
    }

    /** Frame rates outside this range come from a zero or damaged time scale, not from a real video. */
    static final double MIN_FPS = 1;
    static final double MAX_FPS = 1000;

    /** Receives decoded RGB frames in order. */
    @FunctionalInterface
    public interface FrameConsumer {
        /**
         * @param index frame number from 0
         * @param rgb   {@code H*W*3} bytes, RGB interleaved; a fresh array the consumer may keep
         */
        void accept(int index, byte[] rgb);
    }

    private VideoReader() {}

    /** {@code load_video(video, fps, num_frames, max_duration_sec)} of a video file: {@link #probe} then {@link #sample}. */
    public static LoadedVideo load(Path file, int numFrames, int maxDurationSec) {
        if (numFrames < 1) {
            throw new IllegalArgumentException("the number of frames to sample must be at least 1, got " + numFrames);
        }
        VideoInfo info = probe(file, maxDurationSec);
        return sample(info, 0, info.totalFrames(), numFrames);
    }

    /**
     * The first half of {@code load_video}: the stream's size and average frame rate, and its duration
     * {@code min(int(frames/fps), maxDurationSec)} with the frames kept for it, counted in one pass without colour
     * conversion that stops once {@code maxDurationSec} is reached.
     */
    public static VideoInfo probe(Path file, int maxDurationSec) {
        if (maxDurationSec < 1) {
            throw new IllegalArgumentException("the longest stretch of video used must be at least 1 s, got "
                    + maxDurationSec);
        }
        checkFile(file);
        double fps;
        int counted = 0;
        int width;
        int height;
        FFmpegFrameGrabber g = open(file);
        try {
            fps = averageFps(g, file);
            width = g.getImageWidth();
            height = g.getImageHeight();
            while (true) {
                Frame f = g.grabFrame(false, true, false, false, false);
                if (f == null) break;
                if (f.image == null) continue;
                counted++;
                if ((int) (counted / fps) >= maxDurationSec) break; // more frames cannot change the result
            }
        } catch (VideoException e) {
            throw e;
        } catch (Exception e) {
            throw ffmpegFailure(file, "the video stream cannot be decoded", e);
        } finally {
            close(g);
        }
        if (counted == 0) throw ffmpegFailure(file, "the video stream has no decodable frames", null);
        int durationSec = durationSec(counted, fps, maxDurationSec);
        if (durationSec < 1) {
            throw new VideoException(file, String.format(
                    "video too short: %d frames at %s fps is less than 1 s (K4 needs at least 1 whole second)",
                    counted, fmt(fps)));
        }
        return new VideoInfo(file, width, height, fps, durationSec, keptFrames(durationSec, fps));
    }

    /**
     * The second half of {@code load_video} over the stretch {@code [first, first + count)} of the kept frames:
     * {@code numFrames} of them by {@code linspace(first, first + count − 1)}, decoded in one pass that stops after
     * the last one. {@code sample(info, 0, info.totalFrames(), n)} is {@code load_video}'s clip; a later stretch is
     * sampled the same way, as if it were a clip of its own.
     */
    public static LoadedVideo sample(VideoInfo info, int first, int count, int numFrames) {
        if (numFrames < 1) {
            throw new IllegalArgumentException("the number of frames to sample must be at least 1, got " + numFrames);
        }
        if (first < 0 || count < 1 || (long) first + count > info.totalFrames()) {
            throw new IllegalArgumentException("frames [" + first + ", " + ((long) first + count) + ") are not within "
                    + "the " + info.totalFrames() + " kept frames of " + info.source());
        }
        Path file = info.source();
        checkClipSize(file, numFrames, info.width(), info.height());
        int[] idx = linspaceIndices(count, numFrames);
        for (int k = 0; k < idx.length; k++) idx[k] += first;
        // the sampled frames go straight into the (3,T,H,W) tensor: one copy, off the Java heap
        long plane = (long) info.width() * info.height();
        INDArray clip = Nd4j.create(DataType.UINT8, new long[] {3, numFrames, info.height(), info.width()}, 'c');
        BytePointer dst = new BytePointer(clip.data().addressPointer());
        byte[] channel = new byte[(int) plane];
        int[] next = {0};
        int decoded = forEachFrame(file, first + count, (i, rgb) -> {
            for (int c = 0; c < 3; c++) {
                for (int p = 0, q = c; p < plane; p++, q += 3) channel[p] = rgb[q];
                for (int k = next[0]; k < idx.length && idx[k] == i; k++) {
                    dst.position((c * (long) numFrames + k) * plane).put(channel, 0, channel.length);
                }
            }
            while (next[0] < idx.length && idx[next[0]] == i) next[0]++;
        }, idx);
        if (next[0] != numFrames) {
            throw new VideoException(file, "the video decoded to " + decoded + " frames on a second read, fewer than "
                    + "the " + (first + count) + " counted on the first: the file is damaged or its timing is "
                    + "inconsistent");
        }
        return new LoadedVideo(info, idx, clip);
    }

    /**
     * The checks {@link #load} makes before decoding (a file FFmpeg opens, a video stream, a known frame rate), reading
     * only the container header: a cheap way to turn away a file that is no video before queueing work on it.
     */
    public static void probeHeader(Path file) {
        checkFile(file);
        FFmpegFrameGrabber g = open(file);
        try {
            averageFps(g, file);
        } finally {
            close(g);
        }
    }

    /**
     * Streams the first {@code limit} decoded frames as RGB to {@code consumer}.
     *
     * @return the number of frames delivered (less than {@code limit} if the video is shorter)
     */
    public static int forEachFrame(Path file, int limit, FrameConsumer consumer) {
        return forEachFrame(file, limit, consumer, null);
    }

    /** As above; when {@code wanted} (sorted) is given, only those frames are colour-converted and delivered. */
    private static int forEachFrame(Path file, int limit, FrameConsumer consumer, int[] wanted) {
        checkFile(file);
        FFmpegFrameGrabber g = open(file);
        int i = 0;
        int w = 0;
        try {
            g.setPixelFormat(AV_PIX_FMT_RGB24);
            while (i < limit) {
                while (wanted != null && w < wanted.length && wanted[w] < i) w++;
                boolean want = wanted == null || (w < wanted.length && wanted[w] == i);
                Frame f = g.grabFrame(false, true, want, false, false);
                if (f == null) break;
                if (f.image == null) continue;
                if (want && (f.imageWidth != g.getImageWidth() || f.imageHeight != g.getImageHeight())) {
                    // torchvision cannot stack such frames either (unconverted frames carry no size: checked if wanted)
                    throw new VideoException(file, "frame " + i + " is " + f.imageWidth + "x" + f.imageHeight
                            + ", the stream is " + g.getImageWidth() + "x" + g.getImageHeight()
                            + " (resolution changes are not supported)");
                }
                if (want) consumer.accept(i, toRgb(f, file));
                i++;
            }
        } catch (VideoException e) {
            throw e;
        } catch (Exception e) {
            throw ffmpegFailure(file, "frame " + i + " cannot be decoded", e);
        } finally {
            close(g);
        }
        return i;
    }

    /** {@code load_video}'s duration: {@code int(frames / fps)}, at most {@code maxDurationSec}. */
    public static int durationSec(int frames, double fps, int maxDurationSec) {
        return Math.min((int) (frames / fps), maxDurationSec);
    }

    /** {@code load_video}'s kept frames: {@code int(duration_sec * fps)}, the ones muxed with the audio. */
    public static int keptFrames(int durationSec, double fps) {
        return (int) (durationSec * fps);
    }

    /** {@code np.linspace(0, total-1, n, dtype=int)}: {@code i*step} truncated, last element exactly total-1. */
    public static int[] linspaceIndices(int total, int n) {
        int[] idx = new int[n];
        if (n == 1) return idx;
        double step = (double) (total - 1) / (n - 1);
        for (int i = 0; i < n; i++) idx[i] = (int) (i * step);
        idx[n - 1] = total - 1;
        return idx;
    }

    /** Opens the file's first video stream; the caller closes the grabber. Package-private for the muxer. */
    static FFmpegFrameGrabber open(Path file) {
        FFmpegFrameGrabber g = new FFmpegFrameGrabber(file.toFile());
        FfmpegLog.clear();
        try {
            g.start();
        } catch (Exception e) {
            close(g);
            throw ffmpegFailure(file, "not a video file FFmpeg can read", e);
        }
        if (g.getVideoStream() < 0 || g.getImageWidth() <= 0 || g.getImageHeight() <= 0) {
            close(g);
            throw new VideoException(file, "no video stream");
        }
        return g;
    }

    /**
     * The video stream's average frame rate, as torchvision's {@code info["video_fps"]}
     * ({@code float(stream.average_rate)}); an unknown or zero rate is an error, as it is for K4. A raw stream without
     * timestamps (MJPEG, H.264 Annex B) has no rate of its own: FFmpeg 5 leaves its average rate unset, FFmpeg 7 fills
     * in its 25 fps default, which would make a clip of another rate the wrong length; both are refused.
     */
    static double averageFps(FFmpegFrameGrabber g, Path file) {
        if ((g.getFormatContext().iformat().flags() & AVFMT_NOTIMESTAMPS) != 0) {
            throw new VideoException(file, "unknown frame rate: a raw " + g.getFormatContext().iformat().name().getString()
                    + " stream without timestamps; put it in a container with its rate (e.g. ffmpeg -framerate FPS -i "
                    + "IN -c copy OUT.mp4)");
        }
        var stream = g.getFormatContext().streams(g.getVideoStream());
        AVRational r = stream.avg_frame_rate();
        AVRational tb = stream.time_base();
        if (r.num() <= 0 || r.den() <= 0) {
            throw new VideoException(file, "unknown or zero frame rate (average frame rate " + r.num() + "/" + r.den()
                    + " in the container)");
        }
        double fps = (double) r.num() / r.den();
        if (!(fps >= MIN_FPS && fps <= MAX_FPS)) {
            throw new VideoException(file, "the frame rate is unusable: " + fmt(fps) + " fps from a time base of "
                    + tb.num() + "/" + tb.den() + " s (a zero or damaged time scale in the file; "
                    + fmt(MIN_FPS) + " to " + fmt(MAX_FPS) + " fps are accepted)");
        }
        return fps;
    }

    /**
     * The clip of sampled frames is held in memory at the video's own size, as K4 holds it; a size that cannot fit
     * (a damaged header, or frames far beyond 4K) is refused before anything is allocated.
     */
    public static void checkClipSize(Path file, int numFrames, int width, int height) {
        long bytes = 3L * numFrames * width * height;
        long limit = clipByteLimit();
        if (bytes > limit) {
            throw new VideoException(file, String.format(java.util.Locale.ROOT, "frames of %dx%d pixels are too "
                    + "large: %d sampled frames would take %.1f GB, more than a quarter of this machine's memory "
                    + "(%.1f GB); use a smaller video or fewer frames", width, height, numFrames, bytes / 1e9,
                    limit / 1e9));
        }
    }

    private static long clipByteLimit() {
        var os = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof com.sun.management.OperatingSystemMXBean sun) return sun.getTotalMemorySize() / 4;
        return 4L << 30;
    }

    /**
     * Why FFmpeg gave up on a file, in one line: our words first, then the first error FFmpeg logged (its own words,
     * e.g. "moov atom not found"), never JavaCV's advice to its programmers. The FFmpeg exception is kept as the cause
     * for --verbose.
     */
    static VideoException ffmpegFailure(Path file, String what, Exception cause) {
        String ffmpeg = FfmpegLog.firstError();
        String why = what;
        if (ffmpeg != null && ffmpeg.contains("moov atom not found")) {
            why += ": the mp4 index (moov atom) is missing: the file is cut short, still being written, or not an mp4";
        } else if (ffmpeg != null) {
            why += " (FFmpeg, " + ffmpeg + ")";
        }
        VideoException e = new VideoException(file, why);
        if (cause != null) e.initCause(cause);
        return e;
    }

    static void checkFile(Path file) {
        if (!Files.exists(file)) throw new VideoException(file, "no such file");
        if (!Files.isRegularFile(file)) throw new VideoException(file, "not a regular file");
        if (!Files.isReadable(file)) throw new VideoException(file, "file is not readable");
    }

    static void close(FFmpegFrameGrabber g) {
        try {
            g.close();
        } catch (Exception ignored) {
            // closing a grabber that failed to start can throw; nothing to release then
        }
    }

    private static byte[] toRgb(Frame f, Path file) {
        int w = f.imageWidth;
        int h = f.imageHeight;
        // the pixel format is RGB24 (set on the grabber); JavaCV derives imageChannels from the padded line size,
        // which says 4 for some widths (e.g. 66), so it is not checked
        if (f.imageDepth != Frame.DEPTH_UBYTE || f.imageStride < w * 3) {
            throw new VideoException(file, "decoder returned depth " + f.imageDepth + ", line size " + f.imageStride
                    + " for width " + w + " instead of RGB24");
        }
        ByteBuffer src = ((ByteBuffer) f.image[0]).duplicate();
        int stride = f.imageStride;
        byte[] rgb = new byte[w * h * 3];
        for (int y = 0; y < h; y++) {
            src.position(y * stride);
            src.get(rgb, y * w * 3, w * 3);
        }
        return rgb;
    }

    private static String fmt(double fps) {
        return String.format("%.3f", fps).replaceAll("0+$", "").replaceAll("\\.$", "");
    }
}
