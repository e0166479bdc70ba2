package io.github.v2a4j.diffusion;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A diffusers noise scheduler: where the denoising chain steps, and how one noise prediction moves the latents to the
 * previous timestep. Stateful like diffusers' schedulers: {@link #setTimesteps} resets it, then {@link #step} is
 * called once per entry of {@link #timesteps()}, in order.
 *
 * <p>A new scheduler is one class implementing this plus one line in {@link Schedulers}.
 */
public interface Scheduler {

    /** diffusers' class name ({@code _class_name} of {@code scheduler_config.json}), e.g. {@code PNDMScheduler}. */
    String name();

    /**
     * Null when this scheduler can run {@code steps} inference steps with its config, else why not, in one line a
     * user can act on. Asked before any expensive work; {@link #setTimesteps} refuses the same counts.
     */
    String stepsProblem(int steps);

    /**
     * diffusers {@code set_timesteps(num_inference_steps)}: the chain's timesteps; resets any multistep state. A count
     * {@link #stepsProblem} refuses is an {@link IllegalArgumentException} with its message.
     */
    void setTimesteps(int numInferenceSteps);

    /** The timesteps to run after {@link #setTimesteps}, one model evaluation each. */
    int[] timesteps();

    /** The noise schedule's {@code betas} (one per training timestep). */
    float[] betas();

    /** {@code alphas_cumprod}: the cumulative product of {@code 1 - betas}. */
    float[] alphasCumprod();

    /** {@code init_noise_sigma}: the initial latents are standard normal noise times this. */
    float initNoiseSigma();

    /** {@code scale_model_input}: what the model sees at {@code timestep} (the sample itself for most schedulers). */
    default INDArray scaleModelInput(INDArray sample, int timestep) {
        return sample;
    }

    /** One step: the sample at the previous timestep from the model's (guided) output. Inputs are not modified. */
    INDArray step(INDArray modelOutput, int timestep, INDArray sample);
}
