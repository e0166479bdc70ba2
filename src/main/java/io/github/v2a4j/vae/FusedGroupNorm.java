package io.github.v2a4j.vae;

import java.nio.FloatBuffer;
import java.util.stream.IntStream;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Swish;
import org.nd4j.linalg.factory.Nd4j;

/**
 * GroupNorm (affine) optionally followed by SiLU, as the VAE uses it: {@code y = silu((x − μ_g)·rstd_g·γ_c + β_c)}.
 *
 * <p>Why not {@code nn.NN.groupNorm} + {@code NN.silu}: at 512×1184 the decoder's activations are 300–600 MB and a
 * composed GroupNorm allocates several full-size temporaries. Here the statistics are one pass over the data in double
 * (sum and sum of squares per group; double keeps {@code E[x²] − μ²} exact enough at these sizes), and the output is
 * one per-channel scale-and-shift plus one SiLU, both native ops, written either into {@code x} itself (when the caller
 * no longer needs it) or into one fresh array. The arithmetic matches PyTorch's CPU kernel:
 * {@code scale = γ·rstd, shift = β − μ·scale, y = x·scale + shift}.
 */
final class FusedGroupNorm {
    private FusedGroupNorm() {}

    /**
     * @param x       {@code [B, C, ...]} fp32; overwritten when {@code inPlace}
     * @param inPlace write the result into {@code x} (x must be writable and dead afterwards) instead of a new array
     */
    static INDArray apply(INDArray x, int groups, INDArray gamma, INDArray beta, double eps, boolean silu,
                          boolean inPlace) {
        long batch = x.size(0);
        long channels = x.size(1);
        if (channels % groups != 0) {
            throw new IllegalArgumentException("GroupNorm: " + channels + " channels not divisible by " + groups + " groups");
        }
        INDArray src = isDense(x) ? x : x.dup('c');
        long spatial = src.length() / (batch * channels);
        long groupLen = channels / groups * spatial;

        double[] mean = new double[(int) (batch * groups)];
        double[] rstd = new double[mean.length];
        FloatBuffer data = src.data().asNioFloat();
                IntStream.range(0, mean.length).parallel().forEach(bg -> {
            FloatBuffer d = data.duplicate();
            int start = (int) (bg * groupLen);
            int n = (int) groupLen;
            double s0 = 0, s1 = 0, q0 = 0, q1 = 0;
            int i = 0;
            for (; i + 1 < n; i += 2) {
                double a = d.get(start + i);
                double b = d.get(start + i + 1);
                s0 += a;
                s1 += b;
                q0 += a * a;
                q1 += b * b;
            }
            if (i < n) {
                double a = d.get(start + i);
                s0 += a;
                q0 += a * a;
            }
            double m = (s0 + s1) / n;
            double var = Math.max((q0 + q1) / n - m * m, 0.0);
            mean[bg] = m;
            rstd[bg] = 1.0 / Math.sqrt(var + eps);
        });

        float[] scale = new float[(int) (batch * channels)];
        float[] shift = new float[scale.length];
        long perGroup = channels / groups;
        for (int b = 0; b < batch; b++) {
            for (int c = 0; c < channels; c++) {
                int bg = (int) (b * groups + c / perGroup);
                double s = gamma.getDouble(c) * rstd[bg];
                scale[(int) (b * channels + c)] = (float) s;
                shift[(int) (b * channels + c)] = (float) (beta.getDouble(c) - mean[bg] * s);
            }
        }
        INDArray scaleCol = Nd4j.createFromArray(scale).reshape(scale.length, 1);
        INDArray shiftCol = Nd4j.createFromArray(shift).reshape(shift.length, 1);

        INDArray rows = src.reshape('c', batch * channels, spatial);
        // A fresh output is allocated in its final shape and written through a [B·C, HW] view, so that what we
        // return owns its buffer and can be freed early (a reshape of a temporary could not be). Copy, then scale
        // in place: measured at 128×512×1184, in-place column ops take ~0.05 s where the allocating
        // mulColumnVector or a BroadcastMulOp with a vector take 0.5–2.8 s.
        INDArray out = inPlace ? src : Nd4j.createUninitialized(DataType.FLOAT, src.shape());
        INDArray outRows = inPlace ? rows : out.reshape('c', batch * channels, spatial).assign(rows);
        outRows.muliColumnVector(scaleCol).addiColumnVector(shiftCol);
        if (silu) Nd4j.getExecutioner().exec(new Swish(out, out));
        if (inPlace && out != x) {
            x.assign(out);
            Buffers.release(out);
        }
        return inPlace ? x : out;
    }

    private static boolean isDense(INDArray x) {
        return x.dataType() == DataType.FLOAT && x.ordering() == 'c' && x.elementWiseStride() == 1 && x.offset() == 0
                && x.length() < Integer.MAX_VALUE;
    }
}
