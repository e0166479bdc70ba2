package io.github.v2a4j.vae;

import io.github.v2a4j.nn.Buffers;
import java.nio.FloatBuffer;
import java.util.stream.IntStream;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Swish;
import org.nd4j.linalg.factory.Nd4j;

/**
 * GroupNorm (affine) optionally followed by SiLU on a channels-last activation {@code [B, ..., C]}, as the VAE uses
 * it: {@code y = silu((x − μ_g)·rstd_g·γ_c + β_c)}.
 *
 * <p>Why not {@code nn.NN.groupNorm} + {@code NN.silu}: at 512×1184 the decoder's activations are 300–600 MB and a
 * composed GroupNorm allocates several full-size temporaries. Here the statistics are one pass over the data in double
 * (per-channel sums and sums of squares over a fixed number of pixel chunks, added in chunk order, so the result does
 * not depend on the thread count; double keeps {@code E[x²] − μ²} exact enough at these sizes), and the output is one
 * pass of {@code x·scale_c + shift_c} (two float roundings, as PyTorch's CPU kernel:
 * {@code scale = γ·rstd, shift = β − μ·scale}) plus one native SiLU, written either into {@code x} itself (when the
 * caller no longer needs it) or into one fresh array.
 */
final class FusedGroupNorm {
    /** Pixel chunks per image for the statistics: fixed, so the summation order is too. */
    private static final int CHUNKS = 64;
    /** Floats read per bulk copy. */
    private static final int BLOCK = 1 << 14;

    private FusedGroupNorm() {}

    /**
     * @param x       {@code [B, ..., C]} fp32, channels last; overwritten when {@code inPlace}
     * @param inPlace write the result into {@code x} (x must be writable and dead afterwards) instead of a new array
     */
    static INDArray apply(INDArray x, int groups, INDArray gamma, INDArray beta, double eps, boolean silu,
                          boolean inPlace) {
        int batch = (int) x.size(0);
        int channels = (int) x.size(x.rank() - 1);
        if (channels % groups != 0) {
            throw new IllegalArgumentException("GroupNorm: " + channels + " channels not divisible by " + groups + " groups");
        }
        if (x.length() >= Integer.MAX_VALUE) throw new IllegalArgumentException("GroupNorm: more than 2^31 values");
        INDArray src = isDense(x) ? x : x.dup('c');
        int pixels = (int) (src.length() / ((long) batch * channels));
        int chunks = Math.max(1, Math.min(CHUNKS, pixels));
        FloatBuffer data = src.data().asNioFloat();

        double[][] sum = new double[batch * chunks][channels];
        double[][] sumSq = new double[batch * chunks][channels];
        forEachBlock(data, batch, chunks, pixels, channels, (task, b, block, len) -> {
            double[] s = sum[task], q = sumSq[task];
            for (int j = 0; j < len; j += channels) {
                for (int c = 0; c < channels; c++) {
                    double v = block[j + c];
                    s[c] += v;
                    q[c] += v * v;
                }
            }
        }, null);

        int perGroup = channels / groups;
        float[][] scale = new float[batch][channels];
        float[][] shift = new float[batch][channels];
        double n = (double) pixels * perGroup;
        for (int b = 0; b < batch; b++) {
            for (int g = 0; g < groups; g++) {
                double s = 0, q = 0;
                for (int k = 0; k < chunks; k++) {
                    for (int c = g * perGroup; c < (g + 1) * perGroup; c++) {
                        s += sum[b * chunks + k][c];
                        q += sumSq[b * chunks + k][c];
                    }
                }
                double mean = s / n;
                double rstd = 1.0 / Math.sqrt(Math.max(q / n - mean * mean, 0.0) + eps);
                for (int c = g * perGroup; c < (g + 1) * perGroup; c++) {
                    double sc = gamma.getDouble(c) * rstd;
                    scale[b][c] = (float) sc;
                    shift[b][c] = (float) (beta.getDouble(c) - mean * sc);
                }
            }
        }

        INDArray out = inPlace ? src : Buffers.take(src.shape());
        FloatBuffer dst = out.data().asNioFloat();
        forEachBlock(data, batch, chunks, pixels, channels, (task, b, block, len) -> {
            float[] sc = scale[b], sh = shift[b];
            for (int j = 0; j < len; j += channels) {
                for (int c = 0; c < channels; c++) {
                    float y = block[j + c] * sc[c];
                    block[j + c] = y + sh[c];
                }
            }
        }, dst);
        if (silu) Nd4j.getExecutioner().exec(new Swish(out, out));
        if (inPlace && out != x) {
            x.assign(out);
            Buffers.release(out);
        }
        return inPlace ? x : out;
    }

    /** Works on one block of whole pixels, {@code block[0, len)}, of image {@code batchIndex}. */
    private interface BlockBody {
        void apply(int task, int batchIndex, float[] block, int len);
    }

    /**
     * Runs {@code body} over the pixels of each (image, chunk) task in parallel, a block of whole pixels at a time read
     * from {@code data}; with a {@code dst}, each block is then written to the same place in it.
     */
    private static void forEachBlock(FloatBuffer data, int batch, int chunks, int pixels, int channels, BlockBody body,
                                     FloatBuffer dst) {
        IntStream.range(0, batch * chunks).parallel().forEach(task -> {
            int b = task / chunks, k = task % chunks;
            long p0 = (long) pixels * k / chunks, p1 = (long) pixels * (k + 1) / chunks;
            float[] block = new float[Math.max(channels, BLOCK / channels * channels)];
            int from = (int) (((long) b * pixels + p0) * channels), to = (int) (((long) b * pixels + p1) * channels);
            for (int i = from; i < to; i += block.length) {
                int len = Math.min(block.length, to - i);
                data.get(i, block, 0, len);
                body.apply(task, b, block, len);
                if (dst != null) dst.put(i, block, 0, len);
            }
        });
    }

    private static boolean isDense(INDArray x) {
        return x.dataType() == DataType.FLOAT && x.ordering() == 'c' && x.elementWiseStride() == 1 && x.offset() == 0
                && x.length() < Integer.MAX_VALUE;
    }
}
