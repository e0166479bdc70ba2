package io.github.v2a4j.pipeline;

/**
 * Every default of a generation and the bounds of each setting, in one place. The defaults are the values of the K4
 * README's example call, which the command line, {@link GenerationOptions#defaults()} and
 * {@link Video2AudioPipeline#open} take from here; {@link GenerationOptions} refuses a value outside the bounds before
 * any video is decoded or model run. A bound that depends on the model (the step counts its scheduler can serve) is
 * checked by {@link Video2AudioPipeline#generate} before its first encoder pass.
 */
public final class Defaults {
    private Defaults() {}

    public static final String PROMPT = "clean. clear. good quality.";
    /** The reference README's negative prompt, spelling included. */
    public static final String NEGATIVE_PROMPT = "hissing noise. drumming rythm. saying. poor quality.";
    public static final int STEPS = 50;
    public static final float GUIDANCE = 8f;
    public static final long SEED = 0L;
    /** {@code load_video(num_frames=96)}. */
    public static final int FRAMES = 96;
    /** A max duration that never cuts: the sound covers the whole video. */
    public static final int WHOLE_VIDEO = Integer.MAX_VALUE;
    /** The stretch of video used: all of it, in windows of {@link #WINDOW_SEC} (the reference cuts at 12 s). */
    public static final int MAX_DURATION_SEC = WHOLE_VIDEO;
    /**
     * {@code load_video(max_duration_sec=12)}: the longest clip the reference conditions on, and so the stretch of
     * video (and, at 148 latent columns, of latent) each window of a longer video gets.
     */
    public static final int WINDOW_SEC = 12;
    /**
     * Latent columns consecutive windows share at least: a quarter window (2.96 s of sound). Each extra window costs
     * one guided UNet evaluation per step and one CogVLM2 video pass; a quarter window needs
     * {@code ceil((w − 37) / 111)} windows for a latent of w columns (7 for 60 s) against 10 at half a window.
     */
    public static final int WINDOW_OVERLAP = 37;
    /** Latent columns consecutive VAE tiles share at least (128 image columns, 1.28 s, blended linearly). */
    public static final int VAE_TILE_OVERLAP = 16;
    /** {@code image_to_audio(target_dBFS=-30.0)}. */
    public static final double TARGET_DBFS = -30.0;
    /** Classifier-free guidance as one batch-2 UNet call, as the reference does (faster than two batch-1 calls). */
    public static final boolean CFG_ONE_BATCH = true;
    /** {@code __call__(height=512)}: the spectrogram height, riffusion's 512 mel bands. */
    public static final int SPECTROGRAM_HEIGHT = 512;
    /**
     * Frames per CogVLM2 vision-layer call: bounds the MLP intermediate ({@code chunk·257·15360} floats, 126 MB at 8)
     * without changing any value.
     */
    public static final int FRAME_CHUNK = 8;

    // Bounds. They keep a run within what the models were built for (K4 uses 50 steps, guidance 8, 96 frames):
    // guidance far above the usual 1-20 pushes the latents to overflow, and frames beyond these grow the CogVLM2 pass
    // past what fits in memory. The duration has no upper bound: a longer video costs more windows of the same size,
    // and the one thing that grows with it, Griffin-Lim's heap, is checked before any work.

    /** Most denoising steps; the model's scheduler may serve fewer. */
    public static final int STEPS_LIMIT = 1000;
    /** Largest guidance scale (the smallest is just above 1: the reference always guides). */
    public static final float GUIDANCE_LIMIT = 100f;
    /** Most frames sampled from a video. */
    public static final int FRAMES_LIMIT = 1000;
    /** Lowest output level, in dBFS (the highest is 0). */
    public static final double TARGET_DBFS_FLOOR = -100;
}
