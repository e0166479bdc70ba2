package io.github.v2a4j.audio;

/**
 * torchaudio's {@code melscale_fbanks}: the {@code [n_freqs, n_mels]} triangular filterbank, in torch's float32
 * arithmetic. Row-major {@code fb[k * nMels + n]}: STFT bin k, mel band n.
 *
 * <p>Bit for bit with torch 1.13's AVX2 CPU kernels: {@code torch.linspace} ({@link #torchLinspace}) and
 * {@code 10.0 ** x}, which torch evaluates with SLEEF's vector powf in blocks of 16 and with libm powf on the tail
 * ({@link SleefPowf}; the tail uses the correctly rounded pow).
 */
public final class MelFilterbank {
    private MelFilterbank() {}

    /** Filterbank for riffusion's parameters: {@code n_freqs = n_fft/2+1}. */
    public static float[] of(SpectrogramParams p) {
        return create(p.nFreqs(), p.minFrequency(), p.maxFrequency(), p.numFrequencies(), p.sampleRate(),
                p.melScaleNorm(), p.melScaleType());
    }

    /** {@code melscale_fbanks(n_freqs, f_min, f_max, n_mels, sample_rate, norm, mel_scale)}, row-major [n_freqs][n_mels]. */
    public static float[] create(int nFreqs, double fMin, double fMax, int nMels, int sampleRate, String norm,
                                 String melScale) {
        if (norm != null && !norm.equals("slaney")) throw new IllegalArgumentException("norm must be null or slaney");
        float[] allFreqs = torchLinspace(0, sampleRate / 2, nFreqs);
        double mMin = hzToMel(fMin, melScale);
        double mMax = hzToMel(fMax, melScale);
        float[] mPts = torchLinspace(mMin, mMax, nMels + 2);
        float[] fPts = melToHz(mPts, melScale);
        float[] fDiff = new float[nMels + 1];
        for (int i = 0; i <= nMels; i++) fDiff[i] = fPts[i + 1] - fPts[i];
        float[] fb = new float[nFreqs * nMels];
        for (int k = 0; k < nFreqs; k++) {
            float f = allFreqs[k];
            for (int n = 0; n < nMels; n++) {
                // slopes = f_pts - all_freqs; down = (-1 * slopes[:, n]) / f_diff[n]; up = slopes[:, n+2] / f_diff[n+1]
                float down = (-1.0f * (fPts[n] - f)) / fDiff[n];
                float up = (fPts[n + 2] - f) / fDiff[n + 1];
                float v = Math.max(0f, Math.min(down, up));
                fb[k * nMels + n] = v;
            }
        }
        if ("slaney".equals(norm)) {
            for (int n = 0; n < nMels; n++) {
                float enorm = 2.0f / (fPts[n + 2] - fPts[n]);
                for (int k = 0; k < nFreqs; k++) fb[k * nMels + n] *= enorm;
            }
        }
        return fb;
    }

    /** torchaudio {@code _hz_to_mel} (Python float maths). */
    public static double hzToMel(double freq, String melScale) {
        if ("htk".equals(melScale)) return 2595.0 * Math.log10(1.0 + (freq / 700.0));
        if (!"slaney".equals(melScale)) throw new IllegalArgumentException("mel scale must be htk or slaney");
        double fSp = 200.0 / 3;
        double mels = freq / fSp;
        double minLogHz = 1000.0;
        double minLogMel = minLogHz / fSp;
        double logstep = Math.log(6.4) / 27.0;
        if (freq >= minLogHz) mels = minLogMel + Math.log(freq / minLogHz) / logstep;
        return mels;
    }

    /** torchaudio {@code _mel_to_hz} on a float32 tensor. */
    public static float[] melToHz(float[] mels, String melScale) {
        float[] out = new float[mels.length];
        if ("htk".equals(melScale)) {
            int vectorized = mels.length - mels.length % 16; // torch: 2 AVX2 vectors per step, scalar tail
            for (int i = 0; i < mels.length; i++) {
                float x = mels[i] / 2595.0f;
                float p = i < vectorized ? SleefPowf.pow(10f, x) : (float) Math.pow(10.0, x);
                out[i] = 700.0f * (p - 1.0f);
            }
            return out;
        }
        if (!"slaney".equals(melScale)) throw new IllegalArgumentException("mel scale must be htk or slaney");
        float fSp = (float) (200.0 / 3);
        double minLogMel = 1000.0 / (200.0 / 3);
        float logstep = (float) (Math.log(6.4) / 27.0);
        for (int i = 0; i < mels.length; i++) {
            out[i] = fSp * mels[i];
            if (mels[i] >= minLogMel) {
                float arg = logstep * (mels[i] - (float) minLogMel);
                out[i] = 1000.0f * (float) Math.exp(arg);
            }
        }
        return out;
    }

    /**
     * {@code torch.linspace(start, end, steps)} in float32 exactly as torch 1.13's CPU kernel (AVX2 build) computes
     * it: {@code step = (end - start) / (steps - 1)} in float; the first half counts up from start, the second half
     * down from end (both FMA-contracted, {@code fma(step, idx, start)}); contiguous 16-element blocks are two 8-lane
     * {@code arange(base, step)} vectors ({@code base + k·step}, not contracted), the tail is scalar. Checked bit-exact
     * against torch on this machine for five (start, end, steps), where other contraction choices were not.
     */
    public static float[] torchLinspace(double startD, double endD, int steps) {
        float[] out = new float[steps];
        if (steps == 0) return out;
        float start = (float) startD, end = (float) endD;
        if (steps == 1) {
            out[0] = start;
            return out;
        }
        float step = (end - start) / (float) (steps - 1);
        int half = steps / 2;
        int i = 0;
        for (; i <= steps - 16; i += 16) {
            for (int v = i; v < i + 16; v += 8) {
                float base = linspaceScalar(start, end, step, half, steps, v);
                out[v] = base;
                for (int k = 1; k < 8; k++) out[v + k] = base + (float) k * step;
            }
        }
        for (; i < steps; i++) out[i] = linspaceScalar(start, end, step, half, steps, i);
        return out;
    }

    private static float linspaceScalar(float start, float end, float step, int half, int steps, int idx) {
        if (idx < half) return Math.fma(step, (float) idx, start);
        return Math.fma(-step, (float) (steps - idx - 1), end);
    }
}
