package io.github.v2a4j.audio;

import io.github.v2a4j.io.WavFile;
import io.github.v2a4j.nn.FiniteGuard;
import io.github.v2a4j.nn.Trace;
import java.awt.image.BufferedImage;
import org.nd4j.linalg.factory.Nd4j;

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

    /**
     * What image → audio made: Griffin-Lim's float waveforms {@code [channel][samples]} and the 16-bit samples after
     * the conversion, filters and level that were asked for (channels interleaved).
     */
    public record Audio(float[][] waveforms, short[] pcm, int sampleRate) {
        public int channels() {
            return waveforms.length;
        }
    }

    /**
     * Image → audio, the one path the pipeline and {@code v2a audio-from-spectrogram} share: riffusion
     * {@code audio_from_spectrogram_image} (image → mel → inverse mel → Griffin-Lim → int16 normalised →
     * {@code apply_filters} if asked), then K4's {@code set_to_target_level} if a target is given. Reports
     * {@code spectrogram_from_image.out}, {@code audio_from_waveform.in.samples}, {@code audio_from_waveform.out} and
     * {@code apply_filters.out} to the trace under the reference's names.
     *
     * @param seed        Griffin-Lim's random initial phases (channel c uses {@code seed + c})
     * @param torchPhases instead of the seed, the initial phases a torch run drew (mono only), in torch's layout
     *                    {@code [n_freqs, frames, (re, im)]}; null to use the seed
     * @param targetDbfs  the level K4 sets the result to, or null to leave it
     */
    public Audio audioFromImage(BufferedImage image, long seed, float[] torchPhases, boolean applyFilters,
                                Double targetDbfs, Trace trace) {
        if (image.getHeight() != p.numFrequencies()) {
            throw new IllegalArgumentException("spectrogram image height " + image.getHeight() + " != "
                    + p.numFrequencies() + " mel bands");
        }
        int frames = image.getWidth();
        float[][] mel = SpectrogramImage.toSpectrogram(image, p);
        if (torchPhases != null && mel.length != 1) {
            throw new IllegalArgumentException("given Griffin-Lim phases are for one channel, the image has " + mel.length);
        }
        if (trace.wants("spectrogram_from_image.out")) {
            trace.record("spectrogram_from_image.out", Nd4j.create(mel).reshape(mel.length, p.numFrequencies(), frames));
        }
        InverseMelScale ims = InverseMelScale.of(p);
        GriffinLim gl = new GriffinLim(p);
        float[][] waves = new float[mel.length][];
        for (int c = 0; c < mel.length; c++) {
            float[] s = ims.apply(mel[c], frames);
            float[][] phases = torchPhases != null ? gl.packPhases(torchPhases, frames) : gl.randomPhases(frames, seed + c);
            waves[c] = gl.run(s, frames, phases, null);
            requireFinite(waves[c], c, mel.length);
        }
        if (trace.wants("audio_from_waveform.in.samples")) {
            trace.record("audio_from_waveform.in.samples", Nd4j.create(waves));
        }
        short[] pcm = pcmFromWaveforms(waves);
        trace.record("audio_from_waveform.out", Nd4j.createFromArray(pcm));
        if (applyFilters) {
            pcm = Pcm.applyFilters(pcm);
            trace.record("apply_filters.out", Nd4j.createFromArray(pcm));
        }
        if (targetDbfs != null) pcm = Pcm.setToTargetLevel(pcm, targetDbfs);
        return new Audio(waves, pcm, p.sampleRate());
    }

    /**
     * Stops with one line at a NaN or Inf from Griffin-Lim: the int16 conversion would otherwise turn it into a
     * "successful" track of silence or noise.
     */
    static void requireFinite(float[] wave, int channel, int channels) {
        for (int i = 0; i < wave.length; i++) {
            if (Float.isFinite(wave[i])) continue;
            throw new FiniteGuard.NonFiniteException("Griffin-Lim gave " + wave[i] + " at sample " + i + " of "
                    + wave.length + (channels > 1 ? " of channel " + channel : "")
                    + "; its input came from the spectrogram image");
        }
    }

    /**
     * About the most Java heap {@link #audioFromImage} holds for an image {@code frames} columns wide: Griffin-Lim's
     * phases and previous spectra in double and the initial phases in float ({@code 20·n_fft} bytes per frame), the
     * linear spectrogram and magnitudes in float, the waveform buffers, and the fixed inverse-mel tables. For 40 s at
     * riffusion's parameters (4000 frames) this says 2.13 GB; the run finished in a 1.99 GB heap and not in 1.68 GB.
     */
    public long heapBytes(int frames) {
        long perFrame = 20L * p.nFft() + 12L * p.nFreqs() + 16L * p.hopLength();
        return frames * perFrame * p.channels() + (256L << 20);
    }

    /** riffusion {@code audio_from_waveform(normalize=True)} over all channels, interleaved int16. */
    static short[] pcmFromWaveforms(float[][] w) {
        int ch = w.length, n = w[0].length;
        float[] inter = new float[ch * n];
        for (int c = 0; c < ch; c++) for (int i = 0; i < n; i++) inter[i * ch + c] = w[c][i];
        return Pcm.fromWaveform(inter);
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
