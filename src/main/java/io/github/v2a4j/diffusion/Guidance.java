package io.github.v2a4j.diffusion;

import org.nd4j.linalg.api.ndarray.INDArray;

/** Classifier-free guidance as the K4 pipeline combines the two branches. */
public final class Guidance {
    private Guidance() {}

    /** {@code uncond + scale·(cond − uncond)}, fp32, in the reference's operation order. Inputs are not modified. */
    public static INDArray combine(INDArray uncond, INDArray cond, float scale) {
        return cond.sub(uncond).muli(scale).addi(uncond);
    }
}
