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
 * {@link SplittableRandom} or injected. Computed in double (see {@link Stft} for why); the waveforms handed out
 * are rounded to float.
 */
public final class GriffinLim {

    /** Sees each iteration's waveform {@code y = ISTFT(A⊙Φ)} (iteration 0..n_iter−1) and the final one (n_iter). */
    @FunctionalInterface
    public interface IterationObserver {
        void onWaveform(int iteration, float[] waveform);

        /** Rounds {@code y} to float for {@link #onWaveform}. */
        static float[] toFloat(double[] y) {
            float[] out = new float[y.length];
            for (int i = 0; i < y.length; i++) out[i] = (float) y[i];
            return out;
        }
    }

    private final Stft stft;
    private final int nIter;
    private final double alpha;
    private final double power;

    public GriffinLim(Stft stft, int nIter, double momentum, double power) {
        if (!(momentum >= 0 && momentum < 1)) throw new IllegalArgumentException("momentum must be in [0, 1), got " + momentum);
        this.stft = stft;
        this.nIter = nIter;
        this.alpha = momentum / (1 + momentum);
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

    /**
     * Griffin-Lim on the magnitude spectrogram {@code spec} {@code [n_freqs][frames]} (row-major, as torch holds
     * {@code (freq, time)}); {@code phases} packed {@code [frames][n_fft]} is the initial Φ (read, not modified).
     */
    public float[] run(float[] spec, int nFrames, float[][] phases, IterationObserver observer) {
        int nf = stft.nFreqs;
        if (spec.length != nf * nFrames)
            throw new IllegalArgumentException("spectrogram: expected " + nf + "×" + nFrames + " values, got " + spec.length);
        float[][] amp = new float[nFrames][nf];
        IntStream.range(0, nFrames).parallel().forEach(t -> {
            for (int k = 0; k < nf; k++) amp[t][k] = spec[k * nFrames + t];
        });
        return runFrames(amp, phases, observer);
    }

    /** Griffin-Lim on frame-major magnitudes {@code amp[t][k]} (as {@link InverseMelScale#applyFrames} gives). */
    public float[] runFrames(float[][] ampIn, float[][] phases, IterationObserver observer) {
        int nFrames = ampIn.length, nf = stft.nFreqs, n = stft.nFft;
        if (phases.length != nFrames) throw new IllegalArgumentException("phases: expected " + nFrames + " frames, got " + phases.length);
        // A = S^(1/power) (identity for riffusion's power 1)
        float[][] amp = ampIn;
        if (power != 1.0) {
            amp = new float[nFrames][nf];
            for (int t = 0; t < nFrames; t++)
                for (int k = 0; k < nf; k++) amp[t][k] = (float) Math.pow(ampIn[t][k], 1.0 / power);
        }
        final float[][] a = amp;
        double[][] phi = new double[nFrames][n];
        for (int t = 0; t < nFrames; t++)
            for (int i = 0; i < n; i++) phi[t][i] = phases[t][i];
        double[][] prev = new double[nFrames][n];
        double[][] chunkBufs = stft.chunkBuffers(nFrames);
        Stft.FrameSource source = (t, s) -> {
            float[] at = a[t];
            double[] p = phi[t];
            s[0] = at[0] * p[0];
            s[1] = at[n / 2] * p[1];
            for (int k = 1; k < n / 2; k++) {
                s[2 * k] = at[k] * p[2 * k];
                s[2 * k + 1] = at[k] * p[2 * k + 1];
            }
        };
        final double al = alpha;
        Stft.FrameSink update = (t, r) -> {
            double[] p = phi[t], q = prev[t];
            // bins 0 and n/2: the imaginary parts of R and prev are 0
            double z0 = r[0] - al * q[0], z1 = r[1] - al * q[1];
            p[0] = z0 / (Math.abs(z0) + 1e-16);
            p[1] = z1 / (Math.abs(z1) + 1e-16);
            for (int i = 2; i < n; i += 2) {
                double re = r[i] - al * q[i], im = r[i + 1] - al * q[i + 1];
                double d = Math.sqrt(re * re + im * im) + 1e-16;
                p[i] = re / d;
                p[i + 1] = im / d;
            }
            System.arraycopy(r, 0, q, 0, n);
        };
        double[] y = null;
        for (int it = 0; it <= nIter; it++) {
            y = stft.inverse(nFrames, source, chunkBufs);
            if (observer != null) observer.onWaveform(it, IterationObserver.toFloat(y));
            if (it < nIter) stft.forward(y, update);
        }
        return IterationObserver.toFloat(y);
    }
}
