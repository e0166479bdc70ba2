package io.github.v2a4j.pipeline;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * What a generation is asked to do. Defaults are the reference README's: the prompt "clean. clear. good quality.",
 * the negative prompt "hissing noise. drumming rythm. saying. poor quality." (sic), 50 PNDM steps, guidance 8,
 * and a -30 dBFS output level.
 *
 * @param latents            initial latents {@code [1, 4, 64, W/8]} (null: drawn from {@code seed})
 * @param griffinLimPhases   Griffin-Lim's initial phases in torch layout {@code [n_freqs, frames, 2]} (null: from seed)
 * @param oneBatch           CFG as one batch-2 UNet call (the reference) rather than two batch-1 calls
 */
public record GenerationOptions(String prompt, String negativePrompt, int steps, float guidance, long seed,
                                INDArray latents, float[] griffinLimPhases, double targetDbfs, boolean oneBatch) {

    public static final String DEFAULT_PROMPT = "clean. clear. good quality.";
    public static final String DEFAULT_NEGATIVE_PROMPT = "hissing noise. drumming rythm. saying. poor quality.";

    /** Every setting within {@link GenerationLimits}: a bad value fails here, before any work. */
    public GenerationOptions {
        GenerationLimits.steps(steps);
        GenerationLimits.guidance(guidance);
        GenerationLimits.targetDbfs(targetDbfs);
    }

    public static GenerationOptions defaults() {
        return new GenerationOptions(DEFAULT_PROMPT, DEFAULT_NEGATIVE_PROMPT, 50, 8f, 0L, null, null, -30.0, true);
    }

    public GenerationOptions withPrompts(String prompt, String negative) {
        return new GenerationOptions(prompt, negative, steps, guidance, seed, latents, griffinLimPhases, targetDbfs, oneBatch);
    }

    public GenerationOptions withSteps(int s) {
        return new GenerationOptions(prompt, negativePrompt, s, guidance, seed, latents, griffinLimPhases, targetDbfs, oneBatch);
    }

    public GenerationOptions withGuidance(float g) {
        return new GenerationOptions(prompt, negativePrompt, steps, g, seed, latents, griffinLimPhases, targetDbfs, oneBatch);
    }

    public GenerationOptions withSeed(long s) {
        return new GenerationOptions(prompt, negativePrompt, steps, guidance, s, latents, griffinLimPhases, targetDbfs, oneBatch);
    }

    public GenerationOptions withLatents(INDArray l) {
        return new GenerationOptions(prompt, negativePrompt, steps, guidance, seed, l, griffinLimPhases, targetDbfs, oneBatch);
    }

    public GenerationOptions withGriffinLimPhases(float[] p) {
        return new GenerationOptions(prompt, negativePrompt, steps, guidance, seed, latents, p, targetDbfs, oneBatch);
    }

    public GenerationOptions withOneBatch(boolean b) {
        return new GenerationOptions(prompt, negativePrompt, steps, guidance, seed, latents, griffinLimPhases, targetDbfs, b);
    }
}
