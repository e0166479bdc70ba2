package io.github.v2a4j.audio;

import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * torchaudio {@code functional.griffinlim} (fast Griffin-Lim): phase recovery from a linear magnitude spectrogram.
 *
 * <pre>
 * α = momentum / (1 + momentum)            (the transform passes riffusion's 0.99; the functional rescales)
 * A = S^(1/power);  Φ = init phases;  prev = 0
 * repeat n_iter: y = ISTFT(A⊙Φ); R = STFT(y); Φ = R − α·prev; Φ = Φ / (|Φ| + 1e-16); prev = R
 * return ISTFT(A⊙Φ)                         (length=None)
 * </pre>
 *
 * Init phases are complex with real and imaginary parts U[0,1) (torch.rand on a complex dtype), here from a seeded
 * {@link SplittableRandom} or injected. The complex element-wise steps use torch 1.13's AVX2 formulas:
 * {@code |z| = sqrt(re·re + im·im)} in float and {@code z / d = (re·d)/(d·d), (im·d)/(d·d)}.
 */
public final class GriffinLim {

    /** Sees each iteration's waveform {@code y = ISTFT(A⊙Φ)} (iteration 0..n_iter−1) and the final one (n_iter). */
    @FunctionalInterface
    public interface IterationObserver {
        void onWaveform(int iteration, float[] waveform);
    }

    private final Stft stft;
    private final int nIter;
    private final float alpha;
    private final double power;

    public GriffinLim(Stft stft, int nIter, double momentum, double power) {
        if (!(momentum >= 0 && momentum < 1)) throw new IllegalArgumentException("momentum must be in [0, 1), got " + momentum);
        this.stft = stft;
        this.nIter = nIter;
        this.alpha = (float) (momentum / (1 + momentum));
        this.power = power;
    }

    public GriffinLim(SpectrogramParams p) {
        this(new Stft(p), p.numGriffinLimIters(), p.momentum(), 1.0);
    }

    public Stft stft() {
        return stft;
    }

    /**
     * Random init phases in packed layout {@code [frames][n_fft]}: every stored real and imaginary part U[0,1)
     * (the imaginary parts of bins 0 and n_fft/2, which the inverse FFT ignores, are not stored).
     */
    public float[][] randomPhases(int nFrames, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        float[][] ph = new float[nFrames][stft.nFft];
        for (float[] f : ph)
            for (int i = 0; i < f.length; i++) f[i] = (float) ((rng.nextLong() >>> 40) * 0x1.0p-24);
        return ph;
    }

    /**
     * Packs torch-layout complex phases {@code [n_freqs][frames][2]} (re, im interleaved; the layout of
     * {@code torch.view_as_real(angles[0])}) into {@code [frames][n_fft]}.
     */
    public float[][] packPhases(float[] torchPhases, int nFrames) {
        int nf = stft.nFreqs, n = stft.nFft;
        if (torchPhases.length != nf * nFrames * 2)
            throw new IllegalArgumentException("phases: expected " + nf + "×" + nFrames + "×2 values, got " + torchPhases.length);
        float[][] ph = new float[nFrames][n];
        for (int k = 0; k < nf; k++)
            for (int t = 0; t < nFrames; t++) {
                float re = torchPhases[(k * nFrames + t) * 2], im = torchPhases[(k * nFrames + t) * 2 + 1];
                if (k == 0) ph[t][0] = re;
                else if (k == n / 2) ph[t][1] = re;
                else {
                    ph[t][2 * k] = re;
                    ph[t][2 * k + 1] = im;
                }
            }
        return ph;
    }

    /** Griffin-Lim on {@code spec} {@code [n_freqs][frames]} (row-major) with seeded random init phases. */
    public float[] run(float[] spec, int nFrames, long seed) {
        return run(spec, nFrames, randomPhases(nFrames, seed), null);
    }

    /**
     * Griffin-Lim on the magnitude spectrogram {@code spec} {@code [n_freqs][frames]} (row-major, as torch holds
     * {@code (freq, time)}); {@code phases} packed {@code [frames][n_fft]} is used as the initial Φ and overwritten.
     */
    public float[] run(float[] spec, int nFrames, float[][] phases, IterationObserver observer) {
        int nf = stft.nFreqs, n = stft.nFft;
        if (spec.length != nf * nFrames)
            throw new IllegalArgumentException("spectrogram: expected " + nf + "×" + nFrames + " values, got " + spec.length);
        if (phases.length != nFrames) throw new IllegalArgumentException("phases: expected " + nFrames + " frames");
        // A transposed to frame-major: amp[t][k]
        float[][] amp = new float[nFrames][nf];
        IntStream.range(0, nFrames).parallel().forEach(t -> {
            float[] a = amp[t];
            for (int k = 0; k < nf; k++) {
                float s = spec[k * nFrames + t];
                a[k] = power == 1.0 ? s : (float) Math.pow(s, 1.0 / power);
            }
        });
        float[][] phi = phases;
        float[][] prev = new float[nFrames][n];
        float[][] chunkBufs = stft.chunkBuffers(nFrames);
        Stft.FrameSource source = (t, s) -> {
            float[] a = amp[t], p = phi[t];
            s[0] = a[0] * p[0];
            s[1] = a[n / 2] * p[1];
            for (int k = 1; k < n / 2; k++) {
                s[2 * k] = a[k] * p[2 * k];
                s[2 * k + 1] = a[k] * p[2 * k + 1];
            }
        };
        final float al = alpha;
        Stft.FrameSink update = (t, r) -> {
            float[] p = phi[t], q = prev[t];
            // bin 0 and n/2: imaginary parts are 0 in R and prev
            p[0] = normalizeReal(r[0] - q[0] * al);
            p[1] = normalizeReal(r[1] - q[1] * al);
            for (int i = 2; i < n; i += 2) {
                float re = r[i] - q[i] * al, im = r[i + 1] - q[i + 1] * al;
                float d = (float) Math.sqrt(re * re + im * im) + 1e-16f;
                float dd = d * d;
                p[i] = (re * d) / dd;
                p[i + 1] = (im * d) / dd;
            }
            System.arraycopy(r, 0, q, 0, n);
        };
        for (int it = 0; it < nIter; it++) {
            float[] y = stft.inverse(nFrames, source, chunkBufs);
            if (observer != null) observer.onWaveform(it, y);
            stft.forward(y, update);
        }
        float[] y = stft.inverse(nFrames, source, chunkBufs);
        if (observer != null) observer.onWaveform(nIter, y);
        return y;
    }

    private static float normalizeReal(float re) {
        float d = (float) Math.sqrt(re * re) + 1e-16f;
        return (re * d) / (d * d);
    }
}
