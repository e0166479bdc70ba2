package io.github.v2a4j.audio;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.IntStream;

/**
 * torchaudio's current {@code InverseMelScale}: {@code S = relu(lstsq(fbᵀ, mel, driver="gels").solution)}. fbᵀ
 * ({@code n_mels × n_freqs}) is full-rank and underdetermined, so gels returns the minimum-norm solution
 * {@code S = relu(fb·(fbᵀfb)⁻¹·mel)}.
 *
 * <p>How: the triangular filters overlap only their neighbours, so {@code G = fbᵀfb} is banded (tridiagonal for
 * riffusion) and fb has ≤2 non-zeros per row. Per parameter set (cached) we keep fb as sparse rows and the banded
 * Cholesky factor of G, in double; per spectrogram we solve {@code G·Z = mel} (banded) and form {@code fb·Z}
 * (sparse), in double, then round to float. That is the pseudo-inverse product {@code fb·G⁻¹·mel} without forming
 * the dense 8821×512 pseudo-inverse: ~30 MFLOP per 12 s spectrogram instead of a 10.7 GFLOP GEMM, and more accurate.
 * {@link #pseudoInverse()} gives the dense matrix (tests use it as the plain-formula twin).
 */
public final class InverseMelScale {
    private static final Map<List<Object>, InverseMelScale> CACHE = new ConcurrentHashMap<>();

    public final int nFreqs, nMels;
    /** Sparse rows of fb: bins k has columns {@code col[rowStart[k]..rowStart[k+1])} with values {@code val[...]}. */
    private final int[] rowStart, col;
    private final double[] val;
    /** Banded Cholesky factor L of G (lower, bandwidth {@code bw}): {@code chol[n][j]} = L[n][n−bw+j]. */
    private final double[][] chol;
    private final int bw;

    /** The cached instance for {@code p}'s filterbank. */
    public static InverseMelScale of(SpectrogramParams p) {
        List<Object> key = List.of(p.nFreqs(), p.minFrequency(), p.maxFrequency(), p.numFrequencies(), p.sampleRate(),
                String.valueOf(p.melScaleNorm()), p.melScaleType());
        return CACHE.computeIfAbsent(key, k -> new InverseMelScale(MelFilterbank.of(p), p.nFreqs(), p.numFrequencies()));
    }

    /** From a filterbank {@code fb[k * nMels + n]}. */
    public InverseMelScale(float[] fb, int nFreqs, int nMels) {
        if (fb.length != nFreqs * nMels) throw new IllegalArgumentException("filterbank size " + fb.length + " != " + nFreqs + "×" + nMels);
        this.nFreqs = nFreqs;
        this.nMels = nMels;
        rowStart = new int[nFreqs + 1];
        List<double[]> nz = new ArrayList<>();
        int count = 0;
        for (int k = 0; k < nFreqs; k++) {
            rowStart[k] = count;
            for (int n = 0; n < nMels; n++)
                if (fb[k * nMels + n] != 0) {
                    nz.add(new double[] {n, fb[k * nMels + n]});
                    count++;
                }
        }
        rowStart[nFreqs] = count;
        col = new int[count];
        val = new double[count];
        for (int i = 0; i < count; i++) {
            col[i] = (int) nz.get(i)[0];
            val[i] = nz.get(i)[1];
        }
        int b = 0;
        for (int k = 0; k < nFreqs; k++)
            for (int i = rowStart[k]; i < rowStart[k + 1]; i++)
                for (int j = rowStart[k]; j < rowStart[k + 1]; j++) b = Math.max(b, Math.abs(col[i] - col[j]));
        bw = b;
        // G in band storage g[n][j] = G[n][n-bw+j], j in 0..bw (lower part incl. diagonal)
        double[][] g = new double[nMels][bw + 1];
        for (int k = 0; k < nFreqs; k++)
            for (int i = rowStart[k]; i < rowStart[k + 1]; i++)
                for (int j = rowStart[k]; j < rowStart[k + 1]; j++)
                    if (col[j] <= col[i]) g[col[i]][bw - (col[i] - col[j])] += val[i] * val[j];
        for (int n = 0; n < nMels; n++)
            if (g[n][bw] == 0)
                throw new IllegalArgumentException("mel band " + n + " of " + nMels + " has an all-zero filter: fbᵀ is rank"
                        + " deficient (too many mels for " + nFreqs + " frequency bins)");
        // banded Cholesky
        chol = new double[nMels][bw + 1];
        for (int n = 0; n < nMels; n++) {
            for (int m = Math.max(0, n - bw); m <= n; m++) {
                double s = g[n][bw - (n - m)];
                for (int q = Math.max(0, n - bw); q < m; q++) s -= chol[n][bw - (n - q)] * chol[m][bw - (m - q)];
                if (m == n) {
                    if (!(s > 0)) throw new IllegalArgumentException("fbᵀfb is not positive definite at mel band " + n);
                    chol[n][bw] = Math.sqrt(s);
                } else {
                    chol[n][bw - (n - m)] = s / chol[m][bw];
                }
            }
        }
    }

    /** Solves {@code G·z = z} in place (forward then backward substitution with the banded factor). */
    private void solveInPlace(double[] z) {
        for (int n = 0; n < nMels; n++) {
            double s = z[n];
            for (int q = Math.max(0, n - bw); q < n; q++) s -= chol[n][bw - (n - q)] * z[q];
            z[n] = s / chol[n][bw];
        }
        for (int n = nMels - 1; n >= 0; n--) {
            double s = z[n];
            for (int q = n + 1; q <= Math.min(nMels - 1, n + bw); q++) s -= chol[q][bw - (q - n)] * z[q];
            z[n] = s / chol[n][bw];
        }
    }

    /** S frame-major: {@code out[t][k]} from mel {@code [n_mels][frames]} row-major (torch's layout). */
    public float[][] applyFrames(float[] mel, int nFrames) {
        return applyFrames(mel, nFrames, true);
    }

    /** As {@link #applyFrames(float[], int)}; {@code relu=false} gives the least-squares solution before relu. */
    public float[][] applyFrames(float[] mel, int nFrames, boolean relu) {
        if (mel.length != nMels * nFrames)
            throw new IllegalArgumentException("mel spectrogram: expected " + nMels + "×" + nFrames + " values, got " + mel.length);
        float[][] out = new float[nFrames][nFreqs];
        IntStream.range(0, nFrames).parallel().forEach(t -> {
            double[] z = new double[nMels];
            for (int n = 0; n < nMels; n++) z[n] = mel[n * nFrames + t];
            solveInPlace(z);
            float[] o = out[t];
            for (int k = 0; k < nFreqs; k++) {
                double s = 0;
                for (int i = rowStart[k]; i < rowStart[k + 1]; i++) s += val[i] * z[col[i]];
                o[k] = !relu || s > 0 ? (float) s : 0f;
            }
        });
        return out;
    }

    /** S in torch's layout {@code [n_freqs][frames]} row-major. */
    public float[] apply(float[] mel, int nFrames) {
        return apply(mel, nFrames, true);
    }

    /** S in torch's layout; {@code relu=false} gives the least-squares solution before relu. */
    public float[] apply(float[] mel, int nFrames, boolean relu) {
        float[][] f = applyFrames(mel, nFrames, relu);
        float[] out = new float[nFreqs * nFrames];
        for (int t = 0; t < nFrames; t++)
            for (int k = 0; k < nFreqs; k++) out[k * nFrames + t] = f[t][k];
        return out;
    }

    /** Dense pseudo-inverse {@code fb·(fbᵀfb)⁻¹}, {@code [n_freqs][n_mels]} in double. */
    public double[][] pseudoInverse() {
        double[][] p = new double[nFreqs][nMels];
        double[] e = new double[nMels];
        double[][] ginv = new double[nMels][];
        for (int n = 0; n < nMels; n++) {
            java.util.Arrays.fill(e, 0);
            e[n] = 1;
            solveInPlace(e);
            ginv[n] = e.clone();
        }
        for (int k = 0; k < nFreqs; k++)
            for (int i = rowStart[k]; i < rowStart[k + 1]; i++)
                for (int n = 0; n < nMels; n++) p[k][n] += val[i] * ginv[col[i]][n];
        return p;
    }
}
