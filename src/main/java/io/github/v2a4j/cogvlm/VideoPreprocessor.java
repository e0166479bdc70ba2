package io.github.v2a4j.cogvlm;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The video transform of {@code build_conversation_input_ids}: {@code x/255} → {@code NormalizeVideo}
 * (CLIP mean/std) → pytorchvideo {@code ShortSideScale(224)} (bilinear, align_corners=False, no antialias) →
 * {@code CenterCropVideo(224)} → transpose to {@code (T, 3, 224, 224)}.
 *
 * <p>Float32 in the order ATen's generic kernel evaluates it (source index in double, as ATen's acc_type does).
 * Compared with torch 1.13: indices and weights are bit-identical (checked one-hot, per axis),
 * about half the outputs differ by one ulp (max 4.8e-7 on values up to 4) because the exact operation order of
 * the vectorised 2-D kernel is not reproduced. Two shortcuts that change
 * no number: the per-pixel normalisation is applied while reading the (at most four) source pixels of an output
 * pixel instead of over the whole full-resolution clip (a 1080p clip would otherwise need GBs), and only the pixels
 * inside the centre crop are interpolated.
 */
public final class VideoPreprocessor {

    /** CLIP mean / std as float32, as torchvision's {@code normalize} converts them to the clip's dtype. */
    static final float[] MEAN = {0.48145466f, 0.4578275f, 0.40821073f};
    static final float[] STD = {0.26862954f, 0.26130258f, 0.27577711f};

    private final int size;

    public VideoPreprocessor(int imageSize) {
        this.size = imageSize;
    }

    /**
     * Preprocesses a clip held as an array {@code (3, T, H, W)}: UINT8 (read in place, no copy: a 96-frame 1080p
     * clip is 600 MB off-heap and would not fit the heap as a Java array) or any other dtype holding 0..255.
     */
    public INDArray preprocess(INDArray video) {
        long[] s = video.shape();
        if (s.length != 4 || s[0] != 3) {
            throw new IllegalArgumentException("video must be (3, T, H, W) uint8, got shape " + java.util.Arrays.toString(s));
        }
        INDArray v = video;
        if (v.dataType() != DataType.UINT8) {
            double min = v.minNumber().doubleValue();
            double max = v.maxNumber().doubleValue();
            if (min < 0 || max > 255) throw new IllegalArgumentException("video values span " + min + ".." + max + ", expected 0..255");
            v = v.castTo(DataType.UINT8);
        }
        if (v.isView() || v.ordering() != 'c') v = v.dup('c');
        org.nd4j.linalg.api.buffer.DataBuffer buf = v.data();
        long base = v.offset();
        int frames = (int) s[1];
        int height = (int) s[2];
        int width = (int) s[3];
        long plane = (long) height * width;
        long channel = plane * frames;
        if (base + v.length() <= Integer.MAX_VALUE) { // a direct ByteBuffer view: plain byte reads
            java.nio.ByteBuffer bytes = buf.asNio();
            return run(frames, height, width,
                    (t, c, y, x) -> bytes.get((int) (base + c * channel + t * plane + (long) y * width + x)) & 0xff);
        }
        return run(frames, height, width,
                (t, c, y, x) -> buf.getInt(base + c * channel + t * plane + (long) y * width + x) & 0xff);
    }

    /**
     * Preprocesses a clip of unsigned bytes laid out {@code (3, T, H, W)} (channel-major, as K4's {@code load_video}
     * permutes it). Returns a new float32 array {@code (T, 3, size, size)}.
     */
    public INDArray preprocess(byte[] rgb, int frames, int height, int width) {
        if ((long) 3 * frames * height * width != rgb.length) {
            throw new IllegalArgumentException("video has " + rgb.length + " bytes, expected 3x" + frames + "x" + height + "x" + width);
        }
        long plane = (long) height * width;
        long channel = plane * frames;
        return run(frames, height, width, (t, c, y, x) -> rgb[(int) (c * channel + t * plane + (long) y * width + x)] & 0xff);
    }

    /** One source pixel value 0..255 of frame t, channel c, row y, column x. */
    @FunctionalInterface
    interface Pixels {
        int get(int t, int c, int y, int x);
    }

    private INDArray run(int frames, int height, int width, Pixels px) {
        // ShortSideScale: int(math.floor((float(long) / short) * size)) in Python double.
        int newH;
        int newW;
        if (width < height) {
            newH = (int) Math.floor(((double) height / width) * size);
            newW = size;
        } else {
            newH = size;
            newW = (int) Math.floor(((double) width / height) * size);
        }
        if (newH < size || newW < size) {
            throw new IllegalArgumentException("video " + width + "x" + height + " is smaller than the " + size + " crop after scaling");
        }
        // CenterCropVideo: int(round((h - th) / 2.0)), Python round = half to even = Math.rint.
        int top = (int) Math.rint((newH - size) / 2.0);
        int left = (int) Math.rint((newW - size) / 2.0);

        Axis ay = new Axis(height, newH, top, size);
        Axis ax = new Axis(width, newW, left, size);

        // Normalised value of every possible byte, per channel: ((u / 255) - mean) / std, each op in float32.
        float[][] lut = new float[3][256];
        for (int c = 0; c < 3; c++) {
            for (int u = 0; u < 256; u++) {
                float x = (float) u / 255.0f;
                lut[c][u] = (x - MEAN[c]) / STD[c];
            }
        }

        float[] out = new float[frames * 3 * size * size];
        for (int c = 0; c < 3; c++) {
            float[] l = lut[c];
            for (int t = 0; t < frames; t++) {
                int o = ((t * 3) + c) * size * size;
                for (int y = 0; y < size; y++) {
                    int y0 = ay.i0[y];
                    int y1 = ay.i1[y];
                    float wy0 = ay.w0[y];
                    float wy1 = ay.w1[y];
                    for (int x = 0; x < size; x++) {
                        int x0 = ax.i0[x];
                        int x1 = ax.i1[x];
                        float wx0 = ax.w0[x];
                        float wx1 = ax.w1[x];
                        // ATen upsample_generic_Nd (interp_size 2): inner (width) pass per source row, then height.
                        float t0 = l[px.get(t, c, y0, x0)] * wx0 + l[px.get(t, c, y0, x1)] * wx1;
                        float t1 = l[px.get(t, c, y1, x0)] * wx0 + l[px.get(t, c, y1, x1)] * wx1;
                        out[o++] = t0 * wy0 + t1 * wy1;
                    }
                }
            }
        }
        return Nd4j.create(out, new long[] {frames, 3, size, size}, 'c');
    }

    /**
     * Source indices and weights of one axis for the output pixels {@code offset .. offset+count-1}, as ATen's
     * {@code compute_source_index_and_lambda} (ATen/native/UpSample.h of torch 1.13) computes them: float scale,
     * double source index, float weights.
     */
    static final class Axis {
        final int[] i0;
        final int[] i1;
        final float[] w0;
        final float[] w1;

        Axis(int in, int out, int offset, int count) {
            i0 = new int[count];
            i1 = new int[count];
            w0 = new float[count];
            w1 = new float[count];
            float scale = (float) in / out; // area_pixel_compute_scale: static_cast<float>(in) / out
            for (int k = 0; k < count; k++) {
                int dst = offset + k;
                if (in == out) { // ATen copies: no weights computed
                    i0[k] = dst;
                    i1[k] = dst;
                    w0[k] = 1f;
                    w1[k] = 0f;
                    continue;
                }
                // area_pixel_compute_source_index runs in acc_type<float, CPU> = double, from the float scale.
                double src = (double) scale * (dst + 0.5) - 0.5;
                if (src < 0) src = 0;
                int j0 = (int) src;
                int j1 = j0 + (j0 < in - 1 ? 1 : 0);
                float l1 = (float) (src - j0);
                i0[k] = j0;
                i1[k] = j1;
                w1[k] = l1;
                w0[k] = 1f - l1;
            }
        }
    }
}
