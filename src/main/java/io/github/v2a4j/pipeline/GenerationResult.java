package io.github.v2a4j.pipeline;

import java.awt.image.BufferedImage;
import java.time.Duration;
import java.util.Map;

/**
 * One generation's outputs.
 *
 * @param spectrogram the VAE's height×W spectrogram image (RGB; 512 rows for K4)
 * @param waveform    Griffin-Lim's float waveform (mono, before PCM conversion)
 * @param pcm         16-bit mono samples after riffusion's filters and the target level: what is muxed
 * @param sampleRate  44100 for the riffusion parameters
 * @param timings     wall time per stage
 */
public record GenerationResult(BufferedImage spectrogram, float[] waveform, short[] pcm, int sampleRate,
                               Map<Stage, Duration> timings) {

    public double audioSeconds() {
        return (double) pcm.length / sampleRate;
    }
}
