package io.github.v2a4j.audio;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** Parallel, chunked Griffin-Lim against a plain loop over the O(n²) DFT formulas of {@link StftTest}. */
class GriffinLimTest {

    /** torchaudio griffinlim written out plainly (double, naive STFT/ISTFT). */
    static double[] plain(double[][] amp, double[][][] init, int nFft, int hop, int win, int nIter, double momentum) {
        double alpha = momentum / (1 + momentum);
        int frames = amp.length, nf = nFft / 2 + 1;
        double[][][] ang = new double[frames][nf][2], prev = new double[frames][nf][2];
        for (int t = 0; t < frames; t++) for (int k = 0; k < nf; k++) ang[t][k] = init[t][k].clone();
        for (int it = 0; it <= nIter; it++) {
            double[][][] spec = new double[frames][nf][2];
            for (int t = 0; t < frames; t++)
                for (int k = 0; k < nf; k++) {
                    spec[t][k][0] = amp[t][k] * ang[t][k][0];
                    spec[t][k][1] = amp[t][k] * ang[t][k][1];
                }
            double[] y = StftTest.naiveIstft(spec, nFft, hop, win);
            if (it == nIter) return y;
            double[][][] r = StftTest.naiveStftD(y, nFft, hop, win);
            for (int t = 0; t < frames; t++)
                for (int k = 0; k < nf; k++) {
                    double re = r[t][k][0] - alpha * prev[t][k][0], im = r[t][k][1] - alpha * prev[t][k][1];
                    double d = Math.hypot(re, im) + 1e-16;
                    ang[t][k][0] = re / d;
                    ang[t][k][1] = im / d;
                    prev[t][k] = r[t][k].clone();
                }
        }
        throw new AssertionError();
    }

    @Test
    void matchesPlainLoop() {
        int nFft = 126, hop = 7, win = 42, frames = 40, nIter = 6;
        Random r = new Random(11);
        int nf = nFft / 2 + 1;
        float[] spec = new float[nf * frames];
        double[][] amp = new double[frames][nf];
        for (int k = 0; k < nf; k++)
            for (int t = 0; t < frames; t++) {
                spec[k * frames + t] = (float) (r.nextDouble() * 10);
                amp[t][k] = spec[k * frames + t];
            }
        float[] torchPhases = new float[nf * frames * 2];
        for (int i = 0; i < torchPhases.length; i++) torchPhases[i] = r.nextFloat();
        double[][][] init = new double[frames][nf][2];
        for (int k = 0; k < nf; k++)
            for (int t = 0; t < frames; t++) {
                init[t][k][0] = torchPhases[(k * frames + t) * 2];
                init[t][k][1] = torchPhases[(k * frames + t) * 2 + 1];
            }
        // the inverse FFT ignores the imaginary parts of bins 0 and n/2, so does the formula; make them explicit 0
        for (int t = 0; t < frames; t++) {
            init[t][0][1] = 0;
            init[t][nf - 1][1] = 0;
        }
        Stft stft = new Stft(nFft, hop, win);
        GriffinLim gl = new GriffinLim(stft, nIter, 0.99, 1.0);
        float[] fast = gl.run(spec, frames, gl.packPhases(torchPhases, frames), null);
        double[] ref = plain(amp, init, nFft, hop, win, nIter, 0.99);
        assertThat(fast).hasSize(ref.length);
        double m = 0, e = 0;
        for (int i = 0; i < ref.length; i++) {
            m = Math.max(m, Math.abs(ref[i]));
            e = Math.max(e, Math.abs(ref[i] - fast[i]));
        }
        // both in double; the output is rounded to float: float ulp level
        assertThat(e / m).isLessThan(1e-6);
    }

    @Test
    void sameResultOnAnyThreadCount() throws Exception {
        int nFft = 140, hop = 10, win = 70, frames = 60;
        Random r = new Random(2);
        float[] spec = new float[(nFft / 2 + 1) * frames];
        for (int i = 0; i < spec.length; i++) spec[i] = (float) r.nextDouble();
        GriffinLim gl = new GriffinLim(new Stft(nFft, hop, win), 4, 0.99, 1.0);
        float[] a = gl.run(spec, frames, gl.randomPhases(frames, 7), null);
        float[] b = new java.util.concurrent.ForkJoinPool(1)
                .submit(() -> gl.run(spec, frames, gl.randomPhases(frames, 7), null)).get();
        assertThat(b).isEqualTo(a);
    }

    @Test
    void observerSeesEveryIterationAndTheFinalWaveform() {
        int nFft = 140, hop = 10, win = 70, frames = 20;
        float[] spec = new float[(nFft / 2 + 1) * frames];
        java.util.Arrays.fill(spec, 1f);
        GriffinLim gl = new GriffinLim(new Stft(nFft, hop, win), 5, 0.99, 1.0);
        java.util.List<Integer> seen = new java.util.ArrayList<>();
        float[][] last = new float[1][];
        float[] y = gl.run(spec, frames, gl.randomPhases(frames, 1), (it, w) -> {
            seen.add(it);
            last[0] = w;
        });
        assertThat(seen).containsExactly(0, 1, 2, 3, 4, 5);
        assertThat(last[0]).isEqualTo(y);
    }
}
