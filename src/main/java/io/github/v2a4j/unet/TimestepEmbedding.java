package io.github.v2a4j.unet;

import io.github.v2a4j.nn.Binder;
import io.github.v2a4j.nn.Buffers;
import io.github.v2a4j.nn.Linear;
import io.github.v2a4j.nn.NN;
import io.github.v2a4j.nn.Trace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * diffusers get_timestep_embedding (Timesteps module, {@code time_proj}) + TimestepEmbedding ({@code time_embedding}:
 * linear_1 → SiLU → linear_2). The sinusoid is computed in fp32 the way torch does:
 * {@code f_j = exp((−ln 10000 · j) / (half − freq_shift))}, then {@code [sin(t·f), cos(t·f)]}, halves swapped when
 * flip_sin_to_cos.
 */
final class TimestepEmbedding {
    final String path;
    private final int dim;
    private final boolean flipSinToCos;
    private final int freqShift;
    private final Linear linear1, linear2;

    TimestepEmbedding(Binder p, int dim, int timeEmbedDim, boolean flipSinToCos, int freqShift) {
        this.path = p.path();
        this.dim = dim;
        this.flipSinToCos = flipSinToCos;
        this.freqShift = freqShift;
        linear1 = p.dense("linear_1", timeEmbedDim, dim, true);
        linear2 = p.dense("linear_2", timeEmbedDim, timeEmbedDim, true);
    }

    /** {@code [batch, dim]} sinusoidal features of timestep t (the same t for every batch row). */
    INDArray sinusoid(float t, int batch) {
        int half = dim / 2;
        float negLog = (float) -Math.log(10000);
        float[] row = new float[dim];
        for (int j = 0; j < half; j++) {
            float exponent = (negLog * (float) j) / (float) (half - freqShift);
            float arg = t * (float) Math.exp(exponent);
            float s = (float) Math.sin(arg), c = (float) Math.cos(arg);
            row[flipSinToCos ? half + j : j] = s;
            row[flipSinToCos ? j : half + j] = c;
        }
        float[] all = new float[batch * dim];
        for (int b = 0; b < batch; b++) System.arraycopy(row, 0, all, b * dim, dim);
        return Nd4j.create(all, new long[]{batch, dim}, 'c');
    }

    /** temb {@code [batch, timeEmbedDim]}. */
    INDArray forward(float t, int batch, Trace trace) {
        INDArray s = sinusoid(t, batch);
        trace.record("time_proj.out", s);
        INDArray h = linear1.apply(s);
        trace.record(path + ".linear_1.out", h);
        NN.siluInPlace(h);
        INDArray out = linear2.apply(h);
        Buffers.release(h);
        trace.record(path + ".linear_2.out", out);
        trace.record(path + ".out", out);
        return out;
    }
}
