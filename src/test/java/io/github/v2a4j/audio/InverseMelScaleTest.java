package io.github.v2a4j.audio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** Banded/sparse minimum-norm solve against the dense textbook pseudo-inverse (Gauss-Jordan on fbᵀfb). */
class InverseMelScaleTest {

    static double[][] denseInverse(double[][] a) {
        int n = a.length;
        double[][] m = new double[n][2 * n];
        for (int i = 0; i < n; i++) {
            System.arraycopy(a[i], 0, m[i], 0, n);
            m[i][n + i] = 1;
        }
        for (int c = 0; c < n; c++) {
            int piv = c;
            for (int r = c + 1; r < n; r++) if (Math.abs(m[r][c]) > Math.abs(m[piv][c])) piv = r;
            double[] tmp = m[c]; m[c] = m[piv]; m[piv] = tmp;
            double d = m[c][c];
            for (int j = 0; j < 2 * n; j++) m[c][j] /= d;
            for (int r = 0; r < n; r++)
                if (r != c) {
                    double f = m[r][c];
                    for (int j = 0; j < 2 * n; j++) m[r][j] -= f * m[c][j];
                }
        }
        double[][] inv = new double[n][n];
        for (int i = 0; i < n; i++) System.arraycopy(m[i], n, inv[i], 0, n);
        return inv;
    }

    @Test
    void matchesDensePseudoInverseAndIsMinimumNormSolution() {
        int nFreqs = 257, nMels = 40, frames = 9;
        for (String norm : new String[] {null, "slaney"}) {
            float[] fb = MelFilterbank.create(nFreqs, 0, 8000, nMels, 16000, norm, "htk");
            double[][] g = new double[nMels][nMels];
            for (int k = 0; k < nFreqs; k++)
                for (int a = 0; a < nMels; a++)
                    for (int b = 0; b < nMels; b++) g[a][b] += (double) fb[k * nMels + a] * fb[k * nMels + b];
            double[][] gi = denseInverse(g);
            Random r = new Random(5);
            float[] mel = new float[nMels * frames];
            for (int i = 0; i < mel.length; i++) mel[i] = (float) (r.nextDouble() * 100);
            float[] s = new InverseMelScale(fb, nFreqs, nMels).apply(mel, frames);
            double maxRef = 0, maxErr = 0;
            for (int t = 0; t < frames; t++) {
                double[] z = new double[nMels];
                for (int a = 0; a < nMels; a++)
                    for (int b = 0; b < nMels; b++) z[a] += gi[a][b] * mel[b * frames + t];
                for (int k = 0; k < nFreqs; k++) {
                    double v = 0;
                    for (int a = 0; a < nMels; a++) v += fb[k * nMels + a] * z[a];
                    v = Math.max(0, v);
                    maxRef = Math.max(maxRef, v);
                    maxErr = Math.max(maxErr, Math.abs(v - s[k * frames + t]));
                }
            }
            // double maths both ways, rounded once to float: float ulp of max
            assertThat(maxErr / maxRef).as("norm %s", norm).isLessThan(2e-7);
        }
    }

    @Test
    void denseAccessorIsARightInverseOfFbTransposed() {
        int nFreqs = 257, nMels = 40;
        float[] fb = MelFilterbank.create(nFreqs, 0, 8000, nMels, 16000, null, "htk");
        double[][] p = new InverseMelScale(fb, nFreqs, nMels).pseudoInverse();
        for (int a = 0; a < nMels; a++)
            for (int b = 0; b < nMels; b++) {
                double s = 0;
                for (int k = 0; k < nFreqs; k++) s += fb[k * nMels + a] * p[k][b];
                assertThat(s).isCloseTo(a == b ? 1 : 0, org.assertj.core.data.Offset.offset(1e-9));
            }
    }

    @Test
    void emptyMelBandIsAClearError() {
        // 64 mels over 33 bins: some triangles fall between bins
        float[] fb = MelFilterbank.create(33, 0, 8000, 64, 16000, null, "htk");
        assertThatThrownBy(() -> new InverseMelScale(fb, 33, 64)).hasMessageContaining("all-zero filter");
    }

    @Test
    void riffusionInstanceIsCached() {
        SpectrogramParams p = SpectrogramParams.defaults();
        assertThat(InverseMelScale.of(p)).isSameAs(InverseMelScale.of(p.toBuilder().numGriffinLimIters(3).build()));
    }
}
