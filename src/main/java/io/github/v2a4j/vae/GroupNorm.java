package io.github.v2a4j.vae;

import io.github.v2a4j.nn.Buffers;
import io.github.v2a4j.nn.Trace;
import io.github.v2a4j.nn.Binder;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@code nn.GroupNorm(groups, channels, eps, affine)} under its upstream path, on channels-last activations, usually
 * fused with the SiLU after it.
 */
final class GroupNorm {
    private final String path;
    private final INDArray gamma;
    private final INDArray beta;
    private final int groups;
    private final double eps;

    GroupNorm(Binder w, int channels, int groups, double eps) {
        this.path = w.path();
        this.gamma = w.get("weight", channels);
        this.beta = w.get("bias", channels);
        this.groups = groups;
        this.eps = eps;
    }

    /** {@code silu(groupNorm(x))}, into {@code x} itself when {@code inPlace}, else into a new array. */
    INDArray normSilu(INDArray x, boolean inPlace, Trace trace) {
        recordNormOnly(x, trace);
        return FusedGroupNorm.apply(x, groups, gamma, beta, eps, true, inPlace);
    }

    /** {@code groupNorm(x)} into a new array. */
    INDArray norm(INDArray x, Trace trace) {
        INDArray y = FusedGroupNorm.apply(x, groups, gamma, beta, eps, false, false);
        Layout.record(trace, path + ".out", y);
        return y;
    }

    /** The fused path never materialises the norm alone; compute it only when a trace asks for it. */
    private void recordNormOnly(INDArray x, Trace trace) {
        if (!trace.wants(path + ".out")) return;
        INDArray y = FusedGroupNorm.apply(x, groups, gamma, beta, eps, false, false);
        Layout.record(trace, path + ".out", y);
        Buffers.release(y);
    }
}
