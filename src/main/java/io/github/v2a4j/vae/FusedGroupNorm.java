package io.github.v2a4j.vae;

import io.github.v2a4j.nn.Buffers;
import io.github.v2a4j.nn.Eltwise;
import io.github.v2a4j.nn.NN;
import java.nio.FloatBuffer;
import java.util.stream.IntStream;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * GroupNorm (affine) optionally followed by SiLU on a channels-last activation {@code [B, ..., C]}, as the VAE uses
 * it: {@code y = silu((x − μ_g)·rstd_g·γ_c + β_c)}.
 *
 * <p>Why not {@code nn.Norms.groupNorm} with oneDNN's own statistics: at 512×1184 a group holds 2.4 M values, and
 * here the statistics are one pass over the data in double (per-channel sums and sums of squares over a fixed number
 * of pixel chunks, added in chunk order, so the result does not depend on the thread count; double keeps
 * {@code E[x²] − μ²} exact enough at these sizes). The output is then one oneDNN pass of {@code x·scale_c + shift_c}
 * (two float roundings, as PyTorch's CPU kernel: {@code scale = γ·rstd, shift = β − μ·scale}) with SiLU fused,
 * written either into {@code x} itself (when the caller no longer needs it) or into one fresh array. (oneDNN's group norm is no substitute: with 4 channels a group, as at 128 channels, it
 * took 650 ms per 512×1184 norm on the 2-vCPU Zen 5 machine of the README.)
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
        });

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
        for (int b = 0; b < batch; b++) {
            try (INDArray sc = Nd4j.createFromArray(scale[b]); INDArray sh = Nd4j.createFromArray(shift[b])) {
                Eltwise.scaleShift(rows(src, b, pixels, channels), sc, sh, silu, rows(out, b, pixels, channels));
            }
        }
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
     * from {@code data}.
     */
    private static void forEachBlock(FloatBuffer data, int batch, int chunks, int pixels, int channels, BlockBody body) {
        IntStream.range(0, batch * chunks).parallel().forEach(task -> {
            int b = task / chunks, k = task % chunks;
            long p0 = (long) pixels * k / chunks, p1 = (long) pixels * (k + 1) / chunks;
            float[] block = new float[Math.max(channels, BLOCK / channels * channels)];
            int from = (int) (((long) b * pixels + p0) * channels), to = (int) (((long) b * pixels + p1) * channels);
            for (int i = from; i < to; i += block.length) {
                int len = Math.min(block.length, to - i);
                data.get(i, block, 0, len);
                body.apply(task, b, block, len);
            }
        });
    }

    /** Image {@code b} of a dense channels-last array as {@code [pixels, channels]}. */
    private static INDArray rows(INDArray x, int b, int pixels, int channels) {
        return NN.view(x, new long[] {pixels, channels}, new long[] {channels, 1}, (long) b * pixels * channels);
    }

    private static boolean isDense(INDArray x) {
        return x.dataType() == DataType.FLOAT && x.ordering() == 'c' && x.elementWiseStride() == 1 && x.offset() == 0
                && x.length() < Integer.MAX_VALUE;
    }
}
