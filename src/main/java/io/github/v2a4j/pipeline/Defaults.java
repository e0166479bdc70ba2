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
    /** {@code load_video(max_duration_sec=12)}. */
    public static final int MAX_DURATION_SEC = 12;
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

    // Bounds. They keep a run within what the models were built for (K4 uses 50 steps, guidance 8, 96 frames, at
    // most 12 s): guidance far above the usual 1-20 pushes the latents to overflow, and frames and seconds beyond
    // these grow the CogVLM2 pass and the VAE decode past what fits in memory.

    /** Most denoising steps; the model's scheduler may serve fewer. */
    public static final int STEPS_LIMIT = 1000;
    /** Largest guidance scale (the smallest is just above 1: the reference always guides). */
    public static final float GUIDANCE_LIMIT = 100f;
    /** Most frames sampled from a video. */
    public static final int FRAMES_LIMIT = 1000;
    /** Longest stretch of video used, in seconds. */
    public static final int DURATION_LIMIT_SEC = 60;
    /** Lowest output level, in dBFS (the highest is 0). */
    public static final double TARGET_DBFS_FLOOR = -100;
}
