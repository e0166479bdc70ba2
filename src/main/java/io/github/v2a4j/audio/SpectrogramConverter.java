package io.github.v2a4j.audio;

import io.github.v2a4j.io.WavFile;
import java.awt.image.BufferedImage;

/**
 * riffusion's {@code SpectrogramImageConverter} + {@code SpectrogramConverter}, both ways.
 *
 * <p>Image → audio ({@code audio_from_spectrogram_image}, what K4 inference runs): image → mel ({@link SpectrogramImage})
 * → {@link InverseMelScale} → {@link GriffinLim} → {@link Pcm#fromWaveform} → {@link Pcm#applyFilters}.
 * Audio → image ({@code spectrogram_image_from_audio}): int16 samples as float32 (not rescaled) → STFT (power None)
 * → |·| → MelScale ({@code fbᵀ·|X|}) → {@link SpectrogramImage#fromSpectrogram}.
 */
public final class SpectrogramConverter {
    private final SpectrogramParams p;

    public SpectrogramConverter(SpectrogramParams p) {
        this.p = p;
    }

    public SpectrogramParams params() {
        return p;
    }

    /** Image → float32 waveforms {@code [channel][samples]}: inverse mel + Griffin-Lim per channel. */
    public float[][] waveformsFromImage(BufferedImage image, long seed, GriffinLim.IterationObserver observer) {
        if (image.getHeight() != p.numFrequencies())
            throw new IllegalArgumentException("image height " + image.getHeight() + " != mel count " + p.numFrequencies());
        int frames = image.getWidth();
        float[][] mel = SpectrogramImage.toSpectrogram(image, p);
        InverseMelScale ims = InverseMelScale.of(p);
        GriffinLim gl = new GriffinLim(p);
        float[][] out = new float[mel.length][];
        for (int c = 0; c < mel.length; c++) {
            float[] s = ims.apply(mel[c], frames);
            out[c] = gl.run(s, frames, gl.randomPhases(frames, seed + c), observer);
        }
        return out;
    }

    /** riffusion {@code audio_from_waveform(normalize=True)} over all channels, interleaved int16. */
    public static short[] pcmFromWaveforms(float[][] w) {
        int ch = w.length, n = w[0].length;
        float[] inter = new float[ch * n];
        for (int c = 0; c < ch; c++) for (int i = 0; i < n; i++) inter[i * ch + c] = w[c][i];
        return Pcm.fromWaveform(inter);
    }

    /** Image → 16-bit WAV, riffusion's {@code audio_from_spectrogram_image(apply_filters=True)}. */
    public WavFile audioFromImage(BufferedImage image, long seed) {
        float[][] w = waveformsFromImage(image, seed, null);
        return new WavFile(p.sampleRate(), w.length, Pcm.applyFilters(pcmFromWaveforms(w)));
    }

    /** Audio → mel amplitudes {@code [channel][n_mels * frames]}; channels follow riffusion's stereo rule. */
    public float[][] melFromAudio(WavFile wav) {
        if (wav.sampleRate != p.sampleRate())
            throw new IllegalArgumentException("sample rate " + wav.sampleRate + " Hz != " + p.sampleRate() + " Hz");
        short[][] chans = channelsFor(wav, p);
        Stft stft = new Stft(p);
        float[] fb = MelFilterbank.of(p);
        int nMels = p.numFrequencies(), nFreqs = p.nFreqs();
        // each triangle is non-zero on one run of bins: [kLo[n], kHi[n])
        int[] kLo = new int[nMels], kHi = new int[nMels];
        for (int n = 0; n < nMels; n++) {
            kLo[n] = nFreqs;
            for (int k = 0; k < nFreqs; k++)
                if (fb[k * nMels + n] != 0) {
                    kLo[n] = Math.min(kLo[n], k);
                    kHi[n] = k + 1;
                }
        }
        float[][] out = new float[chans.length][];
        for (int c = 0; c < chans.length; c++) {
            double[] x = new double[chans[c].length];
            for (int i = 0; i < x.length; i++) x[i] = chans[c][i];
            int frames = stft.frameCount(x.length);
            float[] mel = new float[nMels * frames];
            out[c] = mel;
            stft.forward(x, (t, spec) -> {
                float[] mag = new float[nFreqs];
                // torch: float32 spectrum, |z| = sqrt(re·re + im·im) in float
                mag[0] = Math.abs((float) spec[0]);
                mag[nFreqs - 1] = Math.abs((float) spec[1]);
                for (int k = 1; k < nFreqs - 1; k++) {
                    float re = (float) spec[2 * k], im = (float) spec[2 * k + 1];
                    mag[k] = (float) Math.sqrt(re * re + im * im);
                }
                for (int n = 0; n < nMels; n++) {
                    float s = 0;
                    for (int k = kLo[n]; k < kHi[n]; k++) s += mag[k] * fb[k * nMels + n];
                    mel[n * frames + t] = s;
                }
            });
        }
        return out;
    }

    /**
     * riffusion's channel rule: stereo params take channels 0 and 1 (a mono input cloned); mono params take a mono
     * input as is and mix a stereo one down as pydub {@code set_channels(1)} does.
     */
    public static short[][] channelsFor(WavFile wav, SpectrogramParams p) {
        if (p.stereo())
            return wav.channels == 1 ? new short[][] {wav.channel(0), wav.channel(0)} : new short[][] {wav.channel(0), wav.channel(1)};
        if (wav.channels == 1) return new short[][] {wav.channel(0)};
        // pydub set_channels(1): audioop.tomono(data, 2, 0.5, 0.5): l·0.5 + r·0.5 in double, floored
        short[] l = wav.channel(0), r = wav.channel(1), m = new short[l.length];
        for (int i = 0; i < m.length; i++) m[i] = (short) Math.floor(l[i] * 0.5 + r[i] * 0.5);
        return new short[][] {m};
    }

    /** Audio → spectrogram image (height n_mels, width frames). */
    public BufferedImage imageFromAudio(WavFile wav) {
        float[][] mel = melFromAudio(wav);
        int frames = mel[0].length / p.numFrequencies();
        return SpectrogramImage.fromSpectrogram(mel, p.numFrequencies(), frames, p.powerForImage());
    }
}
