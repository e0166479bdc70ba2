package io.github.v2a4j.audio;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Filterbank against the plain double-precision formula, and torch.linspace quirks. */
class MelFilterbankTest {

    static double hz2melHtk(double f) {
        return 2595 * Math.log10(1 + f / 700);
    }

    /** Triangle 0→1→0 over f_pts[n..n+2], all in double. */
    static double[][] naive(int nFreqs, double fMin, double fMax, int nMels, int sr, boolean slaneyNorm) {
        double mMin = hz2melHtk(fMin), mMax = hz2melHtk(fMax);
        double[] fPts = new double[nMels + 2];
        for (int i = 0; i < nMels + 2; i++) {
            double m = mMin + (mMax - mMin) * i / (nMels + 1);
            fPts[i] = 700 * (Math.pow(10, m / 2595) - 1);
        }
        double[][] fb = new double[nFreqs][nMels];
        for (int k = 0; k < nFreqs; k++) {
            double f = (sr / 2) * (double) k / (nFreqs - 1);
            for (int n = 0; n < nMels; n++) {
                double v = Math.max(0, Math.min((f - fPts[n]) / (fPts[n + 1] - fPts[n]),
                        (fPts[n + 2] - f) / (fPts[n + 2] - fPts[n + 1])));
                fb[k][n] = slaneyNorm ? v * 2 / (fPts[n + 2] - fPts[n]) : v;
            }
        }
        return fb;
    }

    @Test
    void riffusionFilterbankMatchesFormula() {
        SpectrogramParams p = SpectrogramParams.defaults();
        float[] fb = MelFilterbank.of(p);
        double[][] ref = naive(8821, 0, 10000, 512, 44100, false);
        double maxErr = 0;
        int lastNonZero = 0;
        for (int k = 0; k < 8821; k++)
            for (int n = 0; n < 512; n++) {
                maxErr = Math.max(maxErr, Math.abs(fb[k * 512 + n] - ref[k][n]));
                if (fb[k * 512 + n] != 0) lastNonZero = k;
            }
        // float32 f_pts near 10 kHz have ulp 1e-3 Hz over bands ~40 Hz wide, and 2.5 Hz bins: ~1e-4 worst case
        assertThat(maxErr).isLessThan(2e-4);
        assertThat(lastNonZero).isLessThanOrEqualTo(4000);
        assertThat(fb.length).isEqualTo(8821 * 512);
    }

    @Test
    void slaneyNormMatchesFormula() {
        float[] fb = MelFilterbank.create(201, 0, 8000, 40, 16000, "slaney", "htk");
        double[][] ref = naive(201, 0, 8000, 40, 16000, true);
        double maxRef = 0, maxErr = 0;
        for (int k = 0; k < 201; k++)
            for (int n = 0; n < 40; n++) {
                maxRef = Math.max(maxRef, ref[k][n]);
                maxErr = Math.max(maxErr, Math.abs(fb[k * 40 + n] - ref[k][n]));
            }
        assertThat(maxErr / maxRef).isLessThan(1e-5);
    }

    @Test
    void slaneyScaleIsLinearBelow1kHzThenLog() {
        assertThat(MelFilterbank.hzToMel(500, "slaney")).isEqualTo(500 / (200.0 / 3));
        assertThat(MelFilterbank.hzToMel(1000, "slaney")).isCloseTo(15.0, org.assertj.core.data.Offset.offset(1e-12));
        assertThat(MelFilterbank.hzToMel(6400, "slaney")).isCloseTo(15 + 27, org.assertj.core.data.Offset.offset(1e-9));
        float[] back = MelFilterbank.melToHz(new float[] {7.5f, 42f}, "slaney");
        assertThat((double) back[0]).isCloseTo(500, org.assertj.core.data.Offset.offset(1e-3));
        assertThat((double) back[1]).isCloseTo(6400, org.assertj.core.data.Offset.offset(1e-2));
    }

    @Test
    void linspaceEndpointsAndSymmetry() {
        float[] l = MelFilterbank.torchLinspace(0, 22050, 8821);
        assertThat(l[0]).isEqualTo(0f);
        assertThat(l[8820]).isEqualTo(22050f);
        assertThat(l[4410]).isEqualTo(11025f);
        float[] m = MelFilterbank.torchLinspace(3.3, 1234.5, 1000);
        assertThat(m[999]).isEqualTo(1234.5f);
        assertThat(m[0]).isEqualTo(3.3f);
    }
}
