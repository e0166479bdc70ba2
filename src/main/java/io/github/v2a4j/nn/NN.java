package io.github.v2a4j.nn;

import java.nio.FloatBuffer;
import java.util.stream.IntStream;
import org.nd4j.enums.WeightsFormat;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.Conv2DConfig;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.PaddingMode;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Erf;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Swish;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The layer maths shared by every model, as eager ND4J calls on fp32 arrays. Every method returns a NEW array and
 * leaves its inputs untouched unless its name ends in {@code InPlace}. Weights are PyTorch-shaped
 * ({@code [out, in]} for linear, {@code [out, in, kh, kw]} for convolution). Token tensors are {@code [B, L, C]}.
 *
 * <p>Normalisations are plain Java over the raw buffer with double-precision statistics: ND4J has no group or RMS
 * norm op, its native layer_norm has no epsilon, and one pass over a direct buffer is as fast as the
 * three or four allocating ND4J ops a composition would take.
 */
public final class NN {
    private NN() {}

    /** {@code x·wᵀ + b} over the last dim: x {@code [..., in]}, w {@code [out, in]}, b {@code [out]} or null → {@code [..., out]}. */
    public static INDArray linear(INDArray x, INDArray w, INDArray b) {
        long in = w.size(1);
        long out = w.size(0);
        if (x.size(x.rank() - 1) != in) {
            throw new IllegalArgumentException("linear: input " + java.util.Arrays.toString(x.shape())
                    + " does not end in " + in + " (weight " + java.util.Arrays.toString(w.shape()) + ")");
        }
        long rows = x.length() / in;
        INDArray x2 = contiguous(x).reshape('c', rows, in);
        long[] shape = x.shape().clone();
        shape[shape.length - 1] = out;
        // allocate the result in its final shape and write through a 2-D view of it: the caller gets the owning
        // array, which it can close() as soon as it is dead (a reshaped view cannot be closed and would wait for GC)
        INDArray y = Nd4j.createUninitialized(DataType.FLOAT, shape);
        INDArray y2 = y.reshape('c', rows, out);
        Nd4j.gemm(x2, w, y2, false, true, 1.0, 0.0);
        if (b != null) y2.addiRowVector(b);
        return y;
    }

    /** 2-D convolution NCHW, PyTorch semantics (zero padding {@code pad} on every side). */
    public static INDArray conv2d(INDArray x, INDArray w, INDArray b, int stride, int pad) {
        Conv2DConfig cfg = convConfig(w, stride, pad, "NCHW");
        INDArray xc = contiguous(x);
        return b == null ? Nd4j.cnn().conv2d(xc, w, cfg) : Nd4j.cnn().conv2d(xc, w, b, cfg);
    }

    /** Explicit zero padding, PyTorch-layout weights {@code [O, I, kh, kw]}, activations in {@code format}. */
    private static Conv2DConfig convConfig(INDArray w, int stride, int pad, String format) {
        return Conv2DConfig.builder()
                .kH(w.size(2)).kW(w.size(3))
                .sH(stride).sW(stride)
                .pH(pad).pW(pad)
                .paddingMode(PaddingMode.VALID)
                .dataFormat(format)
                .weightsFormat(WeightsFormat.OIYX)
                .build();
    }

    /** GroupNorm over {@code [B, C, ...]} with affine gamma/beta {@code [C]}, statistics in double. */
    public static INDArray groupNorm(INDArray x, int groups, INDArray gamma, INDArray beta, double eps) {
        INDArray y = Nd4j.createUninitialized(DataType.FLOAT, x.shape());
        groupNormInto(contiguous(x), y, groups, gamma, beta, eps, false);
        return y;
    }

    /**
     * GroupNorm written over its own input, optionally followed by SiLU in the same pass (the ResNet blocks' norm →
     * SiLU pair): for inputs that are dead after the norm, this saves an allocation and two passes over memory.
     */
    public static INDArray groupNormInPlace(INDArray x, int groups, INDArray gamma, INDArray beta, double eps,
                                            boolean thenSilu) {
        if (!isDense(x)) {
            // a strided view: normalise a dense copy, then write it back into the view
            INDArray d = x.dup('c');
            groupNormInto(d, d, groups, gamma, beta, eps, thenSilu);
            return x.assign(d);
        }
        groupNormInto(x, x, groups, gamma, beta, eps, thenSilu);
        return x;
    }

    private static void groupNormInto(INDArray x, INDArray y, int groups, INDArray gamma, INDArray beta, double eps,
                                      boolean silu) {
        int batch = (int) x.size(0);
        int channels = (int) x.size(1);
        if (channels % groups != 0) {
            throw new IllegalArgumentException("groupNorm: " + channels + " channels not divisible by " + groups);
        }
        long spatial = x.length() / ((long) batch * channels);
        int perGroup = channels / groups;
        long groupLen = perGroup * spatial;
        FloatBuffer in = buffer(x);
        FloatBuffer out = buffer(y);
        float[] g = floats(gamma);
        float[] bt = beta == null ? null : floats(beta);
        if (groupLen > Integer.MAX_VALUE) throw new IllegalArgumentException("groupNorm: group too large");
        IntStream.range(0, batch * groups).parallel().forEach(bg -> {
            int base = (int) (bg * groupLen);
            float[] v = SCRATCH.get();
            if (v.length < groupLen) {
                v = new float[(int) groupLen];
                SCRATCH.set(v);
            }
            in.get(base, v, 0, (int) groupLen);
            double sum = 0;
            for (int i = 0; i < groupLen; i++) sum += v[i];
            double mean = sum / groupLen;
            double sq = 0;
            for (int i = 0; i < groupLen; i++) {
                double d = v[i] - mean;
                sq += d * d;
            }
            double inv = 1.0 / Math.sqrt(sq / groupLen + eps);
            int c0 = (bg % groups) * perGroup;
            for (int c = 0; c < perGroup; c++) {
                double scale = inv * g[c0 + c];
                float fs = (float) scale;
                float fb = (float) ((bt == null ? 0 : bt[c0 + c]) - mean * scale);
                int from = (int) (c * spatial);
                int to = (int) (from + spatial);
                if (silu) {
                    for (int i = from; i < to; i++) {
                        float t = v[i] * fs + fb;
                        v[i] = t / (1f + (float) Math.exp(-t));
                    }
                } else {
                    for (int i = from; i < to; i++) v[i] = v[i] * fs + fb;
                }
            }
            out.put(base, v, 0, (int) groupLen);
        });
    }

    /** Per-thread scratch for one normalisation group (reused: the VAE's groups are 2.4 M floats). */
    private static final ThreadLocal<float[]> SCRATCH = ThreadLocal.withInitial(() -> new float[0]);

    /** LayerNorm over the last dim (biased variance, eps inside the sqrt); beta may be null. */
    public static INDArray layerNorm(INDArray x, INDArray gamma, INDArray beta, double eps) {
        INDArray xc = contiguous(x);
        INDArray y = Nd4j.createUninitialized(DataType.FLOAT, x.shape());
        int d = (int) x.size(x.rank() - 1);
        int rows = (int) (x.length() / d);
        FloatBuffer in = buffer(xc);
        FloatBuffer out = buffer(y);
        float[] g = floats(gamma);
        float[] b = beta == null ? null : floats(beta);
        IntStream.range(0, rows).parallel().forEach(r -> {
            int off = r * d;
            double sum = 0;
            for (int i = 0; i < d; i++) sum += in.get(off + i);
            double mean = sum / d;
            double sq = 0;
            for (int i = 0; i < d; i++) {
                double v = in.get(off + i) - mean;
                sq += v * v;
            }
            double inv = 1.0 / Math.sqrt(sq / d + eps);
            for (int i = 0; i < d; i++) {
                double v = (in.get(off + i) - mean) * inv * g[i] + (b == null ? 0 : b[i]);
                out.put(off + i, (float) v);
            }
        });
        return y;
    }

    /** RMSNorm over the last dim: {@code x·rsqrt(mean(x²)+eps)·w}. */
    public static INDArray rmsNorm(INDArray x, INDArray w, double eps) {
        INDArray xc = contiguous(x);
        INDArray y = Buffers.take(x.shape());
        int d = (int) x.size(x.rank() - 1);
        int rows = (int) (x.length() / d);
        FloatBuffer in = buffer(xc);
        FloatBuffer out = buffer(y);
        float[] g = floats(w);
        // one row at a time through a Java array: bulk copies and plain loops the JIT vectorises
        IntStream.range(0, rows).parallel().forEach(r -> {
            float[] v = new float[d];
            in.get(r * d, v, 0, d);
            double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
            int i = 0;
            for (; i + 3 < d; i += 4) {
                s0 += (double) v[i] * v[i];
                s1 += (double) v[i + 1] * v[i + 1];
                s2 += (double) v[i + 2] * v[i + 2];
                s3 += (double) v[i + 3] * v[i + 3];
            }
            for (; i < d; i++) s0 += (double) v[i] * v[i];
            // The reference computes x * rsqrt(var + eps) in fp32, then multiplies by the weight.
            float inv = (float) (1.0 / Math.sqrt((s0 + s1 + s2 + s3) / d + eps));
            for (int j = 0; j < d; j++) v[j] = g[j] * (v[j] * inv);
            out.put(r * d, v, 0, d);
        });
        return y;
    }

    /** Exact GELU {@code 0.5·x·(1+erf(x/√2))}. */
    public static INDArray gelu(INDArray x) {
        return geluInPlace(x.dup('c'));
    }

    public static INDArray geluInPlace(INDArray x) {
        INDArray t = x.mul(1.0 / Math.sqrt(2.0));
        Nd4j.getExecutioner().exec(new Erf(t, t));
        t.addi(1.0).muli(0.5);
        x.muli(t);
        t.close(); // ND4J frees native memory only on GC otherwise: an MLP-sized temporary per call adds up
        return x;
    }

    /** SiLU {@code x·σ(x)}. */
    public static INDArray silu(INDArray x) {
        INDArray y = Nd4j.createUninitialized(DataType.FLOAT, x.shape());
        Nd4j.getExecutioner().exec(new Swish(contiguous(x), y));
        return y;
    }

    public static INDArray siluInPlace(INDArray x) {
        Nd4j.getExecutioner().exec(new Swish(x, x));
        return x;
    }

    /**
     * PyTorch {@code F.interpolate(mode="nearest", size=(outH, outW))} on NCHW: {@code src = min(floor(dst·in/out), in−1)}
     * with the scale in float as ATen computes it (19→37 is ×2 with the last column dropped, not a plain ×2).
     */
    public static INDArray upsampleNearest(INDArray x, int outH, int outW) {
        INDArray xc = contiguous(x);
        int planes = (int) (x.size(0) * x.size(1));
        int inH = (int) x.size(2);
        int inW = (int) x.size(3);
        int[] rowSrc = nearestIndex(inH, outH);
        int[] colSrc = nearestIndex(inW, outW);
        INDArray y = Nd4j.createUninitialized(DataType.FLOAT, x.size(0), x.size(1), outH, outW);
        FloatBuffer in = buffer(xc);
        FloatBuffer out = buffer(y);
        IntStream.range(0, planes).parallel().forEach(p -> {
            int inBase = p * inH * inW;
            int outBase = p * outH * outW;
            for (int oy = 0; oy < outH; oy++) {
                int src = inBase + rowSrc[oy] * inW;
                int dst = outBase + oy * outW;
                for (int ox = 0; ox < outW; ox++) out.put(dst + ox, in.get(src + colSrc[ox]));
            }
        });
        return y;
    }

    static int[] nearestIndex(int in, int out) {
        int[] idx = new int[out];
        float scale = (float) in / out;
        for (int i = 0; i < out; i++) idx[i] = Math.min((int) Math.floor(i * scale), in - 1);
        return idx;
    }

    // ---- raw-buffer helpers ----

    /**
     * A view of {@code x}'s memory with its own shape and strides, starting {@code offset} elements after x's first
     * element. ND4J reads a non-zero offset given with a view's buffer as an offset into the buffer the view was cut
     * from (zero keeps the view's own start), so the view is made over that root buffer with x's absolute offset.
     */
    public static INDArray view(INDArray x, long[] shape, long[] strides, long offset) {
        org.nd4j.linalg.api.buffer.DataBuffer data = x.data();
        org.nd4j.linalg.api.buffer.DataBuffer root = data.originalDataBuffer();
        long absolute = offset;
        if (root != null) {
            data = root;
            absolute += x.offset();
        }
        return Nd4j.create(data, shape, strides, absolute, 'c', x.dataType());
    }

    /** {@code x} itself if it is a dense c-order array, else a dense copy. */
    public static INDArray contiguous(INDArray x) {
        if (isDense(x)) return x;
        return x.dup('c');
    }

    static boolean isDense(INDArray x) {
        // Strides of size-1 dims are irrelevant: ND4J's dup can leave non-default ones there, which
        // Shape.hasDefaultStridesForShape rejects (a [2,16,1,2] UNet bottleneck activation failed groupNormInPlace).
        long expect = 1;
        for (int i = x.rank() - 1; i >= 0; i--) {
            if (x.size(i) != 1 && x.stride(i) != expect) return false;
            expect *= x.size(i);
        }
        return true;
    }

    /** The float buffer of a dense c-order array, positioned at its first element. */
    static FloatBuffer buffer(INDArray x) {
        FloatBuffer fb = x.data().asNioFloat();
        long off = x.offset();
        if (off != 0) {
            fb.position((int) off);
            fb = fb.slice();
        }
        return fb;
    }

    static float[] floats(INDArray v) {
        return v.dup('c').data().asFloat();
    }
}
