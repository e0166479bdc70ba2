package io.github.v2a4j.audio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Fast STFT/ISTFT (both FFT back ends, parallel chunks) against a plain O(n²) DFT twin of torch's definition. */
class StftTest {

    /** torch.stft(center=True, reflect, hann(win) padded to n_fft, onesided) by the DFT formula, in double. */
    static double[][][] naiveStft(float[] x, int nFft, int hop, int win) {
        double[] d = new double[x.length];
        for (int i = 0; i < x.length; i++) d[i] = x[i];
        return naiveStftD(d, nFft, hop, win);
    }

    /** The same in double input. */
    static double[][][] naiveStftD(double[] x, int nFft, int hop, int win) {
        float[] w = Stft.hannWindow(win);
        double[] wp = new double[nFft];
        for (int i = 0; i < win; i++) wp[(nFft - win) / 2 + i] = w[i];
        int pad = nFft / 2, nFrames = 1 + x.length / hop, nf = nFft / 2 + 1;
        double[][][] out = new double[nFrames][nf][2];
        for (int t = 0; t < nFrames; t++)
            for (int k = 0; k < nf; k++) {
                double re = 0, im = 0;
                for (int m = 0; m < nFft; m++) {
                    double v = x[Stft.reflect(t * hop + m - pad, x.length)] * wp[m];
                    double ang = -2 * Math.PI * ((long) k * m % nFft) / nFft;
                    re += v * Math.cos(ang);
                    im += v * Math.sin(ang);
                }
                out[t][k][0] = re;
                out[t][k][1] = im;
            }
        return out;
    }

    /** torch.istft by the formula: irfft (imag of bins 0 and n/2 ignored) × window, overlap-add, / Σw², trim. */
    static double[] naiveIstft(double[][][] spec, int nFft, int hop, int win) {
        float[] w = Stft.hannWindow(win);
        double[] wp = new double[nFft];
        for (int i = 0; i < win; i++) wp[(nFft - win) / 2 + i] = w[i];
        int nFrames = spec.length, full = nFft + hop * (nFrames - 1);
        double[] y = new double[full], env = new double[full];
        for (int t = 0; t < nFrames; t++)
            for (int m = 0; m < nFft; m++) {
                double s = spec[t][0][0];
                for (int k = 1; k < nFft / 2; k++) {
                    double ang = 2 * Math.PI * ((long) k * m % nFft) / nFft;
                    s += 2 * (spec[t][k][0] * Math.cos(ang) - spec[t][k][1] * Math.sin(ang));
                }
                s += spec[t][nFft / 2][0] * ((m % 2 == 0) ? 1 : -1);
                y[t * hop + m] += s / nFft * wp[m];
                env[t * hop + m] += wp[m] * wp[m];
            }
        double[] out = new double[hop * (nFrames - 1)];
        for (int i = 0; i < out.length; i++) out[i] = y[i + nFft / 2] / env[i + nFft / 2];
        return out;
    }

    static float[] noise(int n, long seed) {
        Random r = new Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) r.nextGaussian();
        return x;
    }

    static double[][][] unpack(float[][] packed, int nFft) {
        int nf = nFft / 2 + 1;
        double[][][] out = new double[packed.length][nf][2];
        for (int t = 0; t < packed.length; t++) {
            out[t][0][0] = packed[t][0];
            out[t][nFft / 2][0] = packed[t][1];
            for (int k = 1; k < nFft / 2; k++) {
                out[t][k][0] = packed[t][2 * k];
                out[t][k][1] = packed[t][2 * k + 1];
            }
        }
        return out;
    }

    // mixed radix sizes like the real one (17640 = 2³·3²·5·7²): 2·3²·7 = 126 and 2²·5·7 = 140
    @ParameterizedTest
    @ValueSource(strings = {"fftw", "jtransforms"})
    void forwardMatchesNaiveDft(String backend) {
        for (int[] c : new int[][] {{126, 7, 42}, {140, 10, 70}, {64, 16, 64}}) {
            int nFft = c[0], hop = c[1], win = c[2];
            float[] x = noise(nFft * 3 + 5, nFft);
            Stft stft = new Stft(nFft, hop, win, backend);
            float[][] fast = stft.forward(x);
            double[][][] ref = naiveStft(x, nFft, hop, win);
            assertThat(fast.length).isEqualTo(ref.length).isEqualTo(1 + x.length / hop);
            double maxRef = 0, maxErr = 0;
            double[][][] f = unpack(fast, nFft);
            for (int t = 0; t < ref.length; t++)
                for (int k = 0; k < ref[t].length; k++)
                    for (int j = 0; j < 2; j++) {
                        maxRef = Math.max(maxRef, Math.abs(ref[t][k][j]));
                        maxErr = Math.max(maxErr, Math.abs(ref[t][k][j] - f[t][k][j]));
                    }
            // fp32 FFT of length ≤ 140 vs double DFT: a few float ulps of the largest bin
            assertThat(maxErr / maxRef).as("n_fft %d", nFft).isLessThan(2e-6);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"fftw", "jtransforms"})
    void inverseMatchesNaiveFormulaWithArbitrarySpectra(String backend) {
        int nFft = 126, hop = 7, win = 42, nFrames = 23;
        Random r = new Random(3);
        float[][] packed = new float[nFrames][nFft];
        for (float[] f : packed) for (int i = 0; i < nFft; i++) f[i] = (float) r.nextGaussian();
        Stft stft = new Stft(nFft, hop, win, backend);
        float[] fast = stft.inverse(packed);
        double[] ref = naiveIstft(unpack(packed, nFft), nFft, hop, win);
        assertThat(fast).hasSize(ref.length).hasSize(hop * (nFrames - 1));
        double maxRef = 0, maxErr = 0;
        for (int i = 0; i < ref.length; i++) {
            maxRef = Math.max(maxRef, Math.abs(ref[i]));
            maxErr = Math.max(maxErr, Math.abs(ref[i] - fast[i]));
        }
        // fp32; division by the small window envelope near the ends amplifies rounding a little
        assertThat(maxErr / maxRef).isLessThan(1e-5);
    }

    @Test
    void inverseOfForwardIsIdentity() {
        int nFft = 140, hop = 10, win = 70;
        float[] x = noise(hop * 40, 9);
        Stft stft = new Stft(nFft, hop, win);
        float[] y = stft.inverse(stft.forward(x));
        assertThat(y).hasSize(x.length);
        for (int i = 0; i < x.length; i++) assertThat((double) y[i]).isCloseTo(x[i], org.assertj.core.data.Offset.offset(1e-5));
    }

    /** At riffusion's size the two back ends agree to double rounding, forward and inverse. */
    @Test
    void backendsAgreeAtRiffusionSize() {
        int nFft = 17640, hop = 441, win = 4410;
        float[] x = noise(hop * 30, 5);
        float[][] a = new Stft(nFft, hop, win, "fftw").forward(x);
        float[][] b = new Stft(nFft, hop, win, "jtransforms").forward(x);
        // both in double, then rounded to float: at most a float ulp or so apart
        assertThat(Bundle.relErr(flat(a), flat(b))).isLessThan(2e-7);
        float[] ya = new Stft(nFft, hop, win, "fftw").inverse(a);
        float[] yb = new Stft(nFft, hop, win, "jtransforms").inverse(a);
        assertThat(Bundle.relErr(ya, yb)).isLessThan(2e-7);
    }

    private static float[] flat(float[][] frames) {
        int n = frames[0].length;
        float[] out = new float[frames.length * n];
        for (int t = 0; t < frames.length; t++) System.arraycopy(frames[t], 0, out, t * n, n);
        return out;
    }

    @Test
    void unknownBackendIsRejected() {
        assertThatThrownBy(() -> new Stft(140, 10, 70, "pocketfft")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("fftw or jtransforms");
    }

    @Test
    void hannIsPeriodic() {
        float[] w = Stft.hannWindow(8);
        assertThat(w[0]).isEqualTo(0f);
        assertThat(w[4]).isEqualTo(1f);
        assertThat((double) w[2]).isCloseTo(0.5, org.assertj.core.data.Offset.offset(1e-7));
        assertThat((double) w[6]).isCloseTo(0.5, org.assertj.core.data.Offset.offset(1e-7));
    }

    @Test
    void tooShortForReflectPadding() {
        Stft stft = new Stft(140, 10, 70);
        assertThatThrownBy(() -> stft.forward(new float[70])).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("reflect padding of 70");
    }

    @Test
    void envelopeHoleIsReported() {
        // window 4 with hop 10 leaves samples no window covers
        Stft stft = new Stft(20, 10, 4);
        float[][] spec = new float[5][20];
        assertThatThrownBy(() -> stft.inverse(spec)).hasMessageContaining("window overlap-add min");
    }
}
