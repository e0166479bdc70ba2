package io.github.v2a4j.pipeline;

/**
 * The accepted range of each generation setting. Each check throws an {@link IllegalArgumentException} whose message
 * names the setting as a user knows it; callers run them before any video is decoded or model is run, so a bad value
 * costs nothing. Bounds that depend on the model (the scheduler's step range) are checked by
 * {@link Video2AudioPipeline#generate} before its first encoder pass.
 *
 * <p>Upper bounds keep a run within what the models were built for: K4 uses 50 steps, guidance 8, 96 frames and
 * at most 12 s. Guidance far above the usual 1–20 pushes latents to overflow; frames and seconds beyond these bounds
 * grow the CogVLM2 pass and the VAE decode past what fits in memory.
 */
public final class GenerationLimits {

    public static final int MAX_STEPS = 1000;
    public static final float MAX_GUIDANCE = 100f;
    public static final int MAX_FRAMES = 1000;
    public static final int MAX_DURATION_SEC = 60;

    private GenerationLimits() {}

    public static void steps(int steps) {
        if (steps < 1 || steps > MAX_STEPS) {
            throw new IllegalArgumentException("the number of denoising steps must be 1 to " + MAX_STEPS + ", got "
                    + steps);
        }
    }

    public static void guidance(float guidance) {
        if (!(guidance > 1f && guidance <= MAX_GUIDANCE)) {
            throw new IllegalArgumentException("the guidance scale must be above 1 and at most " + (int) MAX_GUIDANCE
                    + " (the reference always uses classifier-free guidance), got " + guidance);
        }
    }

    public static void frames(int frames) {
        if (frames < 1 || frames > MAX_FRAMES) {
            throw new IllegalArgumentException("the number of frames to sample from the video must be 1 to "
                    + MAX_FRAMES + ", got " + frames);
        }
    }

    public static void maxDuration(int seconds) {
        if (seconds < 1 || seconds > MAX_DURATION_SEC) {
            throw new IllegalArgumentException("the longest stretch of video used must be 1 to " + MAX_DURATION_SEC
                    + " seconds, got " + seconds);
        }
    }

    public static void targetDbfs(double dbfs) {
        if (!(dbfs <= 0 && dbfs >= -100)) {
            throw new IllegalArgumentException("the output level must be -100 to 0 dBFS, got " + dbfs);
        }
    }
}
