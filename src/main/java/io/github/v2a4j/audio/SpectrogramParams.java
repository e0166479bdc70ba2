package io.github.v2a4j.audio;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

/**
 * riffusion's {@code SpectrogramParams}: how audio maps to a spectrogram image and back. Defaults are riffusion's
 * (the image K4 decodes has no EXIF, so the defaults are what inference uses).
 *
 * <p>Stereo as riffusion defines it: the image's G and B channels carry the two channels (R is zero); mono reads R.
 *
 * @param stereo two channels (G, B) instead of one (R)
 * @param sampleRate Hz
 * @param stepSizeMs hop in milliseconds
 * @param windowDurationMs Hann window length in milliseconds
 * @param paddedDurationMs FFT length (window zero-padded) in milliseconds
 * @param numFrequencies mel bands = image height
 * @param minFrequency lowest mel filter edge, Hz
 * @param maxFrequency highest mel filter edge, Hz
 * @param melScaleNorm {@code null} or {@code "slaney"} (area normalisation)
 * @param melScaleType {@code "htk"} or {@code "slaney"}
 * @param numGriffinLimIters Griffin-Lim iterations
 * @param powerForImage power curve between amplitudes and pixel values
 * @param maxValue amplitude a pixel value of 0 (black: the loudest) decodes to
 * @param momentum fast Griffin-Lim momentum as given to torchaudio's transform (rescaled to m/(1+m) inside)
 */
public record SpectrogramParams(
        boolean stereo,
        int sampleRate,
        int stepSizeMs,
        int windowDurationMs,
        int paddedDurationMs,
        int numFrequencies,
        double minFrequency,
        double maxFrequency,
        String melScaleNorm,
        String melScaleType,
        int numGriffinLimIters,
        double powerForImage,
        double maxValue,
        double momentum) {

    public SpectrogramParams {
        if (sampleRate <= 0) throw new IllegalArgumentException("sample rate must be > 0, got " + sampleRate);
        if (stepSizeMs <= 0 || windowDurationMs <= 0 || paddedDurationMs <= 0)
            throw new IllegalArgumentException("step, window and padded durations must be > 0 ms");
        if (numFrequencies <= 0) throw new IllegalArgumentException("mel count must be > 0, got " + numFrequencies);
        if (!(maxFrequency > minFrequency) || minFrequency < 0)
            throw new IllegalArgumentException("need 0 <= min frequency < max frequency, got " + minFrequency + ", " + maxFrequency);
        if (melScaleNorm != null && !melScaleNorm.equals("slaney"))
            throw new IllegalArgumentException("mel norm must be none or slaney, got " + melScaleNorm);
        if (!"htk".equals(melScaleType) && !"slaney".equals(melScaleType))
            throw new IllegalArgumentException("mel scale must be htk or slaney, got " + melScaleType);
        if (numGriffinLimIters < 0) throw new IllegalArgumentException("Griffin-Lim iterations must be >= 0");
        if (!(powerForImage > 0)) throw new IllegalArgumentException("power for image must be > 0");
        if (!(maxValue > 0)) throw new IllegalArgumentException("max value must be > 0");
        if (!(momentum >= 0 && momentum < 1)) throw new IllegalArgumentException("momentum must be in [0, 1), got " + momentum);
        if (windowDurationMs > paddedDurationMs) throw new IllegalArgumentException("window longer than the padded FFT");
    }

    /** riffusion's defaults: mono, 44.1 kHz, 10/100/400 ms, 512 HTK mels 0–10 kHz, 32 iterations, power 0.25, 30e6. */
    public static SpectrogramParams defaults() {
        return new SpectrogramParams(false, 44100, 10, 100, 400, 512, 0, 10000, null, "htk", 32, 0.25, 30e6, 0.99);
    }

    /**
     * riffusion's {@code SpectrogramParams} fields by their Python names ({@code sample_rate}, {@code num_frequencies},
     * ...), as a golden bundle's config or a model directory's {@code pipeline.json} carries them; a field left out
     * keeps riffusion's default, an unknown one is an error. {@code max_mel_iters} (torchaudio 0.13's iterative
     * inverse mel) is accepted and unused: the inverse mel here is the least-squares solve.
     */
    public static SpectrogramParams fromJson(JsonObject o) {
        Builder b = builder();
        for (String key : o.keySet()) {
            JsonElement v = o.get(key);
            switch (key) {
                case "stereo" -> b.stereo(v.getAsBoolean());
                case "sample_rate" -> b.sampleRate(v.getAsInt());
                case "step_size_ms" -> b.stepSizeMs(v.getAsInt());
                case "window_duration_ms" -> b.windowDurationMs(v.getAsInt());
                case "padded_duration_ms" -> b.paddedDurationMs(v.getAsInt());
                case "num_frequencies" -> b.numFrequencies(v.getAsInt());
                case "min_frequency" -> b.minFrequency(v.getAsDouble());
                case "max_frequency" -> b.maxFrequency(v.getAsDouble());
                case "mel_scale_norm" -> b.melScaleNorm(v.isJsonNull() ? null : v.getAsString());
                case "mel_scale_type" -> b.melScaleType(v.getAsString());
                case "num_griffin_lim_iters" -> b.numGriffinLimIters(v.getAsInt());
                case "power_for_image" -> b.powerForImage(v.getAsDouble());
                case "max_mel_iters" -> { }
                default -> throw new IllegalArgumentException("unknown spectrogram parameter '" + key + "'");
            }
        }
        return b.build();
    }

    /** {@code int(padded_duration_ms / 1000.0 * sample_rate)} (17640 by default). */
    public int nFft() {
        return (int) (paddedDurationMs / 1000.0 * sampleRate);
    }

    /** {@code int(window_duration_ms / 1000.0 * sample_rate)} (4410 by default). */
    public int winLength() {
        return (int) (windowDurationMs / 1000.0 * sampleRate);
    }

    /** {@code int(step_size_ms / 1000.0 * sample_rate)} (441 by default). */
    public int hopLength() {
        return (int) (stepSizeMs / 1000.0 * sampleRate);
    }

    /** One-sided STFT bins, {@code n_fft // 2 + 1}. */
    public int nFreqs() {
        return nFft() / 2 + 1;
    }

    /** Image channels used: 2 for stereo, else 1. */
    public int channels() {
        return stereo ? 2 : 1;
    }

    public SpectrogramParams withGriffinLimIters(int v) { return toBuilder().numGriffinLimIters(v).build(); }

    public Builder toBuilder() {
        return new Builder(this);
    }

    public static Builder builder() {
        return new Builder(defaults());
    }

    /** Every field settable, starting from the defaults. */
    public static final class Builder {
        private boolean stereo;
        private int sampleRate, stepSizeMs, windowDurationMs, paddedDurationMs, numFrequencies, numGriffinLimIters;
        private double minFrequency, maxFrequency, powerForImage, maxValue, momentum;
        private String melScaleNorm, melScaleType;

        private Builder(SpectrogramParams p) {
            stereo = p.stereo; sampleRate = p.sampleRate; stepSizeMs = p.stepSizeMs;
            windowDurationMs = p.windowDurationMs; paddedDurationMs = p.paddedDurationMs;
            numFrequencies = p.numFrequencies; minFrequency = p.minFrequency; maxFrequency = p.maxFrequency;
            melScaleNorm = p.melScaleNorm; melScaleType = p.melScaleType; numGriffinLimIters = p.numGriffinLimIters;
            powerForImage = p.powerForImage; maxValue = p.maxValue; momentum = p.momentum;
        }

        public Builder stereo(boolean v) { stereo = v; return this; }
        public Builder sampleRate(int v) { sampleRate = v; return this; }
        public Builder stepSizeMs(int v) { stepSizeMs = v; return this; }
        public Builder windowDurationMs(int v) { windowDurationMs = v; return this; }
        public Builder paddedDurationMs(int v) { paddedDurationMs = v; return this; }
        public Builder numFrequencies(int v) { numFrequencies = v; return this; }
        public Builder minFrequency(double v) { minFrequency = v; return this; }
        public Builder maxFrequency(double v) { maxFrequency = v; return this; }
        public Builder melScaleNorm(String v) { melScaleNorm = v; return this; }
        public Builder melScaleType(String v) { melScaleType = v; return this; }
        public Builder numGriffinLimIters(int v) { numGriffinLimIters = v; return this; }
        public Builder powerForImage(double v) { powerForImage = v; return this; }
        public Builder maxValue(double v) { maxValue = v; return this; }
        public Builder momentum(double v) { momentum = v; return this; }

        public SpectrogramParams build() {
            return new SpectrogramParams(stereo, sampleRate, stepSizeMs, windowDurationMs, paddedDurationMs,
                    numFrequencies, minFrequency, maxFrequency, melScaleNorm, melScaleType, numGriffinLimIters,
                    powerForImage, maxValue, momentum);
        }
    }
}
