package io.github.v2a4j.diffusion;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A noise predictor with an unconditional and a conditional branch, as classifier-free guidance needs it. Either
 * branch order is the reference's: index 0 unconditional (negative prompt, black video), index 1 conditional.
 */
public interface GuidedNoiseModel {

    /**
     * ε of both branches for latents {@code [1,C,h,w]} at timestep t: {@code {uncond, cond}}, each {@code [1,C,h,w]}.
     *
     * @param oneBatch true: one model call on the batch {@code [latents, latents]} (what the reference does);
     *                 false: two batch-1 calls (same values up to fp32 summation order inside the GEMMs)
     */
    INDArray[] predictBoth(INDArray latents, int timestep, boolean oneBatch);
}
