package io.github.v2a4j.cli;

import io.github.v2a4j.bench.CogVlmBench;
import io.github.v2a4j.cogvlm.CogVlmConfig;
import io.github.v2a4j.cogvlm.CogVlmEncoder;
import io.github.v2a4j.pipeline.Defaults;
import io.github.v2a4j.pipeline.LatentWindows;
import io.github.v2a4j.pipeline.Stage;
import io.github.v2a4j.unet.UNetConfig;
import io.github.v2a4j.vae.VaeConfig;

/**
 * FLOP of the pipeline's stages for one generation, from the benchmarks' analytic counts (2 × multiply-adds of the
 * products: linears, convolutions, attention cores; norms and elementwise work not counted): the CogVLM2 blocks of
 * {@link CogVlmBench}, {@link BenchUnetCommand#flops} and {@link BenchVaeCommand#decoderFlops}. Stages without a
 * count (reading the video, the audio, muxing) give NaN.
 *
 * @param frames        video frames T
 * @param promptTokens  token counts of the prompt and the negative prompt, BOS included
 * @param latentHeight  latent rows (spectrogram height / VAE scale factor)
 * @param latentWidth   latent columns of the whole video
 * @param windowWidth   latent columns of one window (and of one VAE tile): 148 for 12 s, or the whole latent when
 *                      it is narrower
 */
record StageFlops(CogVlmConfig cogvlm, UNetConfig unet, VaeConfig vae, int frames, int[] promptTokens,
                  int latentHeight, int latentWidth, int windowWidth) {

    /** Denoising windows of the latent (one for a video of at most 12 s), as the pipeline plans them. */
    int windows() {
        return latentWidth <= windowWidth ? 1
                : LatentWindows.plan(latentWidth, windowWidth, Defaults.WINDOW_OVERLAP).count();
    }

    /** VAE tiles of the latent, as the pipeline's tiled decode plans them. */
    int tiles() {
        return latentWidth <= windowWidth ? 1
                : LatentWindows.plan(latentWidth, windowWidth, Defaults.VAE_TILE_OVERLAP).count();
    }

    /**
     * @param evaluations UNet evaluations of the denoising loop over all windows (51 per window for PNDM at 50 steps),
     *                    each at batch 2 (CFG) over one window's columns
     * @param computed    false for a pass read from the cache (the black video's, the prompts')
     */
    double of(Stage stage, int evaluations, boolean computed) {
        return switch (stage) {
            case ENCODE_PROMPT -> {
                if (!computed) yield 0; // both texts' embeddings read from the cache
                double g = 0;
                for (int tokens : promptTokens) g += decoderLayers() * CogVlmBench.decoderLayerGflop(cogvlm, tokens);
                yield g * 1e9;
            }
            case ENCODE_VIDEO -> windows() * videoPass(frames);
            // the black clip is one frame repeated: the vision tower runs it once (VisionTower runs repeats once)
            case ENCODE_BLACK_VIDEO -> computed ? videoPass(1) : 0;
            case DENOISE -> evaluations * 2 * BenchUnetCommand.flops(unet, latentHeight,
                    Math.min(latentWidth, windowWidth), frames, CogVlmEncoder.TEXT_ROWS);
            case VAE_DECODE -> latentWidth <= windowWidth ? BenchVaeCommand.decoderFlops(vae, latentHeight, latentWidth)
                    : tiles() * BenchVaeCommand.decoderFlops(vae, latentHeight, windowWidth);
            default -> Double.NaN;
        };
    }

    /**
     * Vision tower and adapter on {@code distinctFrames} frames (the others repeat one of them), then the decoder on
     * BOS + every frame's vision rows.
     */
    private double videoPass(int distinctFrames) {
        CogVlmConfig.Vision v = cogvlm.vision();
        double g = distinctFrames * (v.numHiddenLayers() * CogVlmBench.visionLayerGflop(v, v.numPositions())
                + CogVlmBench.adapterGflop(cogvlm));
        g += decoderLayers() * CogVlmBench.decoderLayerGflop(cogvlm, 1 + cogvlm.tokensPerFrame() * frames);
        return g * 1e9;
    }

    /** K4 reads the output of the second-to-last decoder layer, so the last one never runs. */
    private int decoderLayers() {
        return cogvlm.numHiddenLayers() - 1;
    }
}
