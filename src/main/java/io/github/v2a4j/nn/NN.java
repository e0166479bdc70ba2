package io.github.v2a4j.nn;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The layer maths shared by every model, as eager ND4J calls on fp32 arrays. Every method returns a NEW array and
 * leaves its inputs untouched unless its name ends in {@code InPlace}. Weights are PyTorch-shaped
 * ({@code [out, in]} for linear, {@code [out, in, kh, kw]} for convolution). Token tensors are {@code [B, L, C]}.
 */
public final class NN {
    private NN() {}

    /** {@code x·wᵀ + b} over the last dim: x {@code [..., in]}, w {@code [out, in]}, b {@code [out]} or null → {@code [..., out]}. */
    public static INDArray linear(INDArray x, INDArray w, INDArray b) {
        throw new UnsupportedOperationException("TODO");
    }

    /** 2-D convolution NCHW, PyTorch semantics (zero padding {@code pad} on every side). */
    public static INDArray conv2d(INDArray x, INDArray w, INDArray b, int stride, int pad) {
        throw new UnsupportedOperationException("TODO");
    }

    /** GroupNorm over {@code [B, C, ...]} with affine gamma/beta {@code [C]}, statistics in double. */
    public static INDArray groupNorm(INDArray x, int groups, INDArray gamma, INDArray beta, double eps) {
        throw new UnsupportedOperationException("TODO");
    }

    /** LayerNorm over the last dim (biased variance, eps inside the sqrt); beta may be null. */
    public static INDArray layerNorm(INDArray x, INDArray gamma, INDArray beta, double eps) {
        throw new UnsupportedOperationException("TODO");
    }

    /** RMSNorm over the last dim: {@code x·rsqrt(mean(x²)+eps)·w}. */
    public static INDArray rmsNorm(INDArray x, INDArray w, double eps) {
        throw new UnsupportedOperationException("TODO");
    }

    /** Exact GELU {@code 0.5·x·(1+erf(x/√2))}. */
    public static INDArray gelu(INDArray x) {
        throw new UnsupportedOperationException("TODO");
    }

    public static INDArray geluInPlace(INDArray x) {
        throw new UnsupportedOperationException("TODO");
    }

    /** SiLU {@code x·σ(x)}. */
    public static INDArray silu(INDArray x) {
        throw new UnsupportedOperationException("TODO");
    }

    public static INDArray siluInPlace(INDArray x) {
        throw new UnsupportedOperationException("TODO");
    }

    /**
     * PyTorch {@code F.interpolate(mode="nearest", size=(outH, outW))} on NCHW: {@code src = min(floor(dst·in/out), in−1)}
     * (19→37 is ×2 with the last column dropped, not a plain ×2).
     */
    public static INDArray upsampleNearest(INDArray x, int outH, int outW) {
        throw new UnsupportedOperationException("TODO");
    }
}
