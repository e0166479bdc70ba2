package io.github.v2a4j.nn;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.apache.commons.math3.special.Erf;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Every fast path of {@link NN} against a plain double-precision loop (the "slow twin"). */
class NNTest {

    static INDArray rand(Random r, double scale, long... shape) {
        INDArray a = Nd4j.create(DataType.FLOAT, shape);
        long n = a.length();
        for (long i = 0; i < n; i++) a.putScalar(i, (r.nextDouble() * 2 - 1) * scale);
        return a;
    }

    static double maxDiff(INDArray a, double[] ref) {
        double[] got = a.dup('c').data().asDouble();
        assertThat(got.length).isEqualTo(ref.length);
        double m = 0;
        for (int i = 0; i < ref.length; i++) m = Math.max(m, Math.abs(got[i] - ref[i]));
        return m;
    }

    @Test
    void linearMatchesLoop() {
        Random r = new Random(1);
        INDArray x = rand(r, 1, 2, 3, 5);
        INDArray w = rand(r, 1, 4, 5);
        INDArray b = rand(r, 1, 4);
        INDArray y = NN.linear(x, w, b);
        assertThat(y.shape()).containsExactly(2, 3, 4);
        double[] xs = x.data().asDouble(), ws = w.data().asDouble(), bs = b.data().asDouble();
        double[] ref = new double[24];
        for (int row = 0; row < 6; row++)
            for (int o = 0; o < 4; o++) {
                double s = bs[o];
                for (int i = 0; i < 5; i++) s += xs[row * 5 + i] * ws[o * 5 + i];
                ref[row * 4 + o] = s;
            }
        assertThat(maxDiff(y, ref)).isLessThan(1e-6);
    }

    @Test
    void conv2dMatchesLoopWithStrideAndPadding() {
        Random r = new Random(2);
        for (int stride : new int[] {1, 2}) {
            INDArray x = rand(r, 1, 2, 3, 9, 10);
            INDArray w = rand(r, 1, 4, 3, 3, 3);
            INDArray b = rand(r, 1, 4);
            INDArray y = NN.conv2d(x, w, b, stride, 1);
            int oh = (9 + 2 - 3) / stride + 1, ow = (10 + 2 - 3) / stride + 1;
            assertThat(y.shape()).containsExactly(2, 4, oh, ow);
            double[] ref = new double[2 * 4 * oh * ow];
            for (int n = 0; n < 2; n++)
                for (int o = 0; o < 4; o++)
                    for (int yy = 0; yy < oh; yy++)
                        for (int xx = 0; xx < ow; xx++) {
                            double s = b.getDouble(o);
                            for (int c = 0; c < 3; c++)
                                for (int ky = 0; ky < 3; ky++)
                                    for (int kx = 0; kx < 3; kx++) {
                                        int iy = yy * stride + ky - 1, ix = xx * stride + kx - 1;
                                        if (iy < 0 || ix < 0 || iy >= 9 || ix >= 10) continue;
                                        s += x.getDouble(n, c, iy, ix) * w.getDouble(o, c, ky, kx);
                                    }
                            ref[((n * 4 + o) * oh + yy) * ow + xx] = s;
                        }
            assertThat(maxDiff(y, ref)).isLessThan(1e-5);
        }
    }

    @Test
    void groupNormMatchesLoopAndInPlaceSiluVariant() {
        Random r = new Random(3);
        INDArray x = rand(r, 3, 2, 6, 4, 5).addi(0.7);
        INDArray g = rand(r, 1, 6), b = rand(r, 1, 6);
        int groups = 3;
        double eps = 1e-5;
        double[] xs = x.dup().data().asDouble();
        double[] ref = new double[xs.length];
        int per = 2 * 20;
        for (int n = 0; n < 2; n++)
            for (int gi = 0; gi < groups; gi++) {
                int base = (n * groups + gi) * per;
                double mean = 0, var = 0;
                for (int i = 0; i < per; i++) mean += xs[base + i];
                mean /= per;
                for (int i = 0; i < per; i++) var += (xs[base + i] - mean) * (xs[base + i] - mean);
                var /= per;
                for (int i = 0; i < per; i++) {
                    int c = gi * 2 + i / 20;
                    ref[base + i] = (xs[base + i] - mean) / Math.sqrt(var + eps) * g.getDouble(c) + b.getDouble(c);
                }
            }
        assertThat(maxDiff(NN.groupNorm(x, groups, g, b, eps), ref)).isLessThan(1e-5);
        double[] silu = ref.clone();
        for (int i = 0; i < silu.length; i++) silu[i] = silu[i] / (1 + Math.exp(-silu[i]));
        INDArray y = x.dup();
        NN.groupNormInPlace(y, groups, g, b, eps, true);
        assertThat(maxDiff(y, silu)).isLessThan(1e-5);
    }

    @Test
    void layerNormKeepsEpsilonForTinyVariance() {
        // ND4J's native layer_norm drops epsilon: a row of ±1e-3 must give ±0.3015, not ±1.
        INDArray x = Nd4j.createFromArray(new float[][] {{1e-3f, -1e-3f, 1e-3f, -1e-3f}});
        INDArray y = NN.layerNorm(x, Nd4j.ones(DataType.FLOAT, 4), null, 1e-5);
        assertThat(y.getDouble(0, 0)).isCloseTo(1e-3 / Math.sqrt(1e-6 + 1e-5), org.assertj.core.data.Offset.offset(1e-5));
    }

    @Test
    void rmsNormAndLayerNormMatchLoop() {
        Random r = new Random(4);
        INDArray x = rand(r, 2, 3, 7);
        INDArray g = rand(r, 1, 7), b = rand(r, 1, 7);
        double[] xs = x.data().asDouble();
        double[] ln = new double[21], rms = new double[21];
        for (int row = 0; row < 3; row++) {
            double mean = 0, var = 0, sq = 0;
            for (int i = 0; i < 7; i++) mean += xs[row * 7 + i];
            mean /= 7;
            for (int i = 0; i < 7; i++) {
                var += Math.pow(xs[row * 7 + i] - mean, 2);
                sq += xs[row * 7 + i] * xs[row * 7 + i];
            }
            for (int i = 0; i < 7; i++) {
                ln[row * 7 + i] = (xs[row * 7 + i] - mean) / Math.sqrt(var / 7 + 1e-6) * g.getDouble(i) + b.getDouble(i);
                rms[row * 7 + i] = xs[row * 7 + i] / Math.sqrt(sq / 7 + 1e-5) * g.getDouble(i);
            }
        }
        assertThat(maxDiff(NN.layerNorm(x, g, b, 1e-6), ln)).isLessThan(1e-5);
        assertThat(maxDiff(NN.rmsNorm(x, g, 1e-5), rms)).isLessThan(1e-5);
    }

    @Test
    void geluIsExactErfGeluAndSiluIsXSigmoidX() {
        float[] grid = new float[241];
        for (int i = 0; i < grid.length; i++) grid[i] = -6f + i * 0.05f;
        INDArray x = Nd4j.createFromArray(grid);
        INDArray before = x.dup();
        double[] xs = x.data().asDouble();
        double[] gelu = new double[xs.length], silu = new double[xs.length];
        for (int i = 0; i < xs.length; i++) {
            gelu[i] = 0.5 * xs[i] * (1 + Erf.erf(xs[i] / Math.sqrt(2)));
            silu[i] = xs[i] / (1 + Math.exp(-xs[i]));
        }
        assertThat(maxDiff(NN.gelu(x), gelu)).isLessThan(2e-6);
        assertThat(maxDiff(NN.silu(x), silu)).isLessThan(2e-6);
        assertThat(x).isEqualTo(before); // the non-InPlace variants leave their input alone
    }

    @Test
    void upsampleNearestToExplicitSizeFollowsPytorchIndexing() {
        INDArray x = Nd4j.arange(19).castTo(DataType.FLOAT).reshape(1, 1, 1, 19);
        INDArray y = NN.upsampleNearest(x, 1, 37);
        // PyTorch: src = min(floor(dst * 19/37), 18): 0,0,1,1,...,17,17,18
        assertThat(y.getDouble(0, 0, 0, 0)).isEqualTo(0);
        assertThat(y.getDouble(0, 0, 0, 1)).isEqualTo(0);
        assertThat(y.getDouble(0, 0, 0, 2)).isEqualTo(1);
        assertThat(y.getDouble(0, 0, 0, 35)).isEqualTo(17);
        assertThat(y.getDouble(0, 0, 0, 36)).isEqualTo(18);
        INDArray z = NN.upsampleNearest(Nd4j.createFromArray(new float[] {1, 2, 3, 4}).reshape(1, 1, 2, 2), 4, 4);
        assertThat(z.getDouble(0, 0, 3, 3)).isEqualTo(4);
        assertThat(z.getDouble(0, 0, 1, 2)).isEqualTo(2);
    }

    @Test
    void linearAndAttentionReturnArraysTheCallerCanFree() {
        // a reshaped view cannot be closed: its memory would wait for a garbage collection (GB per layer at real size)
        Random r = new Random(5);
        INDArray y = NN.linear(rand(r, 1, 2, 3, 8), rand(r, 1, 4, 8), rand(r, 1, 4));
        assertThat(y.shape()).containsExactly(2, 3, 4);
        assertThat(y.closeable()).isTrue();
        INDArray q = rand(r, 1, 1, 5, 8);
        INDArray o = Attention.sdpa(q, q, q, 2, 2, false);
        assertThat(o.closeable()).isTrue();
        y.close();
        o.close();
    }
}
