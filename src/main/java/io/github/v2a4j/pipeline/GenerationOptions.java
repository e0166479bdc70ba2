package io.github.v2a4j.pipeline;

import io.github.v2a4j.audio.SpectrogramParams;
import io.github.v2a4j.diffusion.Schedulers;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * What one generation is asked to do; {@link #defaults()} are {@link Defaults}' values.
 *
 * @param frames           frames sampled from a video ({@code load_video(num_frames)})
 * @param maxDurationSec   longest stretch of a video used ({@code load_video(max_duration_sec)})
 * @param targetDbfs       the level the audio is set to ({@code image_to_audio(target_dBFS)})
 * @param oneBatch         CFG as one batch-2 UNet call (the reference) rather than two batch-1 calls
 * @param scheduler        a scheduler name ({@code DDIMScheduler}, {@code ddim}, ...) replacing the model's; null:
 *                         the one its {@code scheduler_config.json} names
 * @param spectrogram      riffusion's parameters for image → audio; null: the model's
 * @param latents          initial latents {@code [1, 4, height/8, W/8]} (null: drawn from {@code seed})
 * @param griffinLimPhases Griffin-Lim's initial phases in torch layout {@code [n_freqs, frames, 2]} (null: from
 *                         {@code seed})
 */
public record GenerationOptions(String prompt, String negativePrompt, int steps, float guidance, long seed,
                                int frames, int maxDurationSec, double targetDbfs, boolean oneBatch,
                                String scheduler, SpectrogramParams spectrogram, INDArray latents,
                                float[] griffinLimPhases) {

    /** Every setting within {@link Defaults}' bounds: a bad value fails here, in the user's words, before any work. */
    public GenerationOptions {
        if (prompt == null || negativePrompt == null) throw new IllegalArgumentException("prompts must not be null");
        if (steps < 1 || steps > Defaults.STEPS_LIMIT) {
            throw new IllegalArgumentException("the number of denoising steps must be 1 to " + Defaults.STEPS_LIMIT
                    + ", got " + steps);
        }
        if (!(guidance > 1f && guidance <= Defaults.GUIDANCE_LIMIT)) {
            throw new IllegalArgumentException("the guidance scale must be above 1 and at most "
                    + (int) Defaults.GUIDANCE_LIMIT + " (the reference always uses classifier-free guidance), got "
                    + guidance);
        }
        if (frames < 1 || frames > Defaults.FRAMES_LIMIT) {
            throw new IllegalArgumentException("the number of frames to sample from the video must be 1 to "
                    + Defaults.FRAMES_LIMIT + ", got " + frames);
        }
        if (maxDurationSec < 1) {
            throw new IllegalArgumentException("the longest stretch of video used must be at least 1 second, got "
                    + maxDurationSec);
        }
        if (!(targetDbfs <= 0 && targetDbfs >= Defaults.TARGET_DBFS_FLOOR)) {
            throw new IllegalArgumentException("the output level must be " + (int) Defaults.TARGET_DBFS_FLOOR
                    + " to 0 dBFS, got " + targetDbfs);
        }
        if (scheduler != null) scheduler = Schedulers.resolve(scheduler);
    }

    public static GenerationOptions defaults() {
        return new GenerationOptions(Defaults.PROMPT, Defaults.NEGATIVE_PROMPT, Defaults.STEPS, Defaults.GUIDANCE,
                Defaults.SEED, Defaults.FRAMES, Defaults.MAX_DURATION_SEC, Defaults.TARGET_DBFS, Defaults.CFG_ONE_BATCH,
                null, null, null, null);
    }

    public GenerationOptions withPrompts(String prompt, String negative) {
        return new GenerationOptions(prompt, negative, steps, guidance, seed, frames, maxDurationSec, targetDbfs,
                oneBatch, scheduler, spectrogram, latents, griffinLimPhases);
    }

    public GenerationOptions withSteps(int s) {
        return new GenerationOptions(prompt, negativePrompt, s, guidance, seed, frames, maxDurationSec, targetDbfs,
                oneBatch, scheduler, spectrogram, latents, griffinLimPhases);
    }

    public GenerationOptions withGuidance(float g) {
        return new GenerationOptions(prompt, negativePrompt, steps, g, seed, frames, maxDurationSec, targetDbfs,
                oneBatch, scheduler, spectrogram, latents, griffinLimPhases);
    }

    public GenerationOptions withSeed(long s) {
        return new GenerationOptions(prompt, negativePrompt, steps, guidance, s, frames, maxDurationSec, targetDbfs,
                oneBatch, scheduler, spectrogram, latents, griffinLimPhases);
    }

    public GenerationOptions withFrames(int n) {
        return new GenerationOptions(prompt, negativePrompt, steps, guidance, seed, n, maxDurationSec, targetDbfs,
                oneBatch, scheduler, spectrogram, latents, griffinLimPhases);
    }

    public GenerationOptions withMaxDurationSec(int s) {
        return new GenerationOptions(prompt, negativePrompt, steps, guidance, seed, frames, s, targetDbfs, oneBatch,
                scheduler, spectrogram, latents, griffinLimPhases);
    }

    public GenerationOptions withTargetDbfs(double d) {
        return new GenerationOptions(prompt, negativePrompt, steps, guidance, seed, frames, maxDurationSec, d,
                oneBatch, scheduler, spectrogram, latents, griffinLimPhases);
    }

    public GenerationOptions withOneBatch(boolean b) {
        return new GenerationOptions(prompt, negativePrompt, steps, guidance, seed, frames, maxDurationSec,
                targetDbfs, b, scheduler, spectrogram, latents, griffinLimPhases);
    }

    /** {@code name}: a registered scheduler ({@link Schedulers#names()}); null: the model's own. */
    public GenerationOptions withScheduler(String name) {
        return new GenerationOptions(prompt, negativePrompt, steps, guidance, seed, frames, maxDurationSec,
                targetDbfs, oneBatch, name, spectrogram, latents, griffinLimPhases);
    }

    /** riffusion's parameters for image → audio instead of the model's (their mel count must be its height). */
    public GenerationOptions withSpectrogram(SpectrogramParams p) {
        return new GenerationOptions(prompt, negativePrompt, steps, guidance, seed, frames, maxDurationSec,
                targetDbfs, oneBatch, scheduler, p, latents, griffinLimPhases);
    }

    public GenerationOptions withLatents(INDArray l) {
        return new GenerationOptions(prompt, negativePrompt, steps, guidance, seed, frames, maxDurationSec,
                targetDbfs, oneBatch, scheduler, spectrogram, l, griffinLimPhases);
    }

    public GenerationOptions withGriffinLimPhases(float[] p) {
        return new GenerationOptions(prompt, negativePrompt, steps, guidance, seed, frames, maxDurationSec,
                targetDbfs, oneBatch, scheduler, spectrogram, latents, p);
    }
}
