package io.github.v2a4j.nn;

import static io.github.v2a4j.nn.GemmTest.bf16;
import static io.github.v2a4j.nn.GemmTest.random;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

/** The oneDNN convolution against the plain formula in double (the slow twin), channels-last, fp32 and bf16. */
class Conv2dTest {

    /** x {@code [B,H,W,C]}, w {@code [O,C,k,k]} → {@code [B,H',W',O]} in double. */
    static double[] reference(INDArray x, INDArray w, INDArray b, int stride, int pad, boolean roundBf16) {
        int bs = (int) x.size(0), h = (int) x.size(1), wd = (int) x.size(2), c = (int) x.size(3);
        int o = (int) w.size(0), k = (int) w.size(2);
        int oh = (h + 2 * pad - k) / stride + 1, ow = (wd + 2 * pad - k) / stride + 1;
        double[] y = new double[bs * oh * ow * o];
        for (int n = 0; n < bs; n++)
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++)
                    for (int f = 0; f < o; f++) {
                        double s = b == null ? 0 : b.getDouble(f);
                        for (int di = 0; di < k; di++)
                            for (int dj = 0; dj < k; dj++) {
                                int yi = i * stride + di - pad, xj = j * stride + dj - pad;
                                if (yi < 0 || yi >= h || xj < 0 || xj >= wd) continue;
                                for (int ch = 0; ch < c; ch++) {
                                    float xv = x.getFloat(n, yi, xj, ch), wv = w.getFloat(f, ch, di, dj);
                                    if (roundBf16) {
                                        xv = bf16(xv);
                                        wv = bf16(wv);
                                    }
                                    s += (double) xv * wv;
                                }
                            }
                        y[((n * oh + i) * ow + j) * o + f] = s;
                    }
        return y;
    }

    static double maxRelToMax(INDArray got, double[] ref) {
        float[] g = got.dup('c').data().asFloat();
        double e = 0, m = 0;
        for (int i = 0; i < ref.length; i++) {
            e = Math.max(e, Math.abs(g[i] - ref[i]));
            m = Math.max(m, Math.abs(ref[i]));
        }
        return e / m;
    }

    @Test
    void fp32AndBf16MatchThePlainFormula() {
        INDArray x = random(1, 2, 7, 9, 6);
        INDArray w = random(2, 5, 6, 3, 3);
        INDArray b = random(3, 5);
        for (int stride : new int[] {1, 2}) {
            INDArray y = new Conv2d("t", w, b, stride, 1, Precision.FP32).apply(x);
            assertThat(maxRelToMax(y, reference(x, w, b, stride, 1, false))).as("fp32 stride %d", stride).isLessThan(1e-6);
            INDArray yb = new Conv2d("t", w, b, stride, 1, Precision.BF16).apply(x);
            assertThat(maxRelToMax(yb, reference(x, w, b, stride, 1, true))).as("bf16 stride %d", stride).isLessThan(1e-6);
        }
        INDArray w1 = random(4, 5, 6, 1, 1);
        INDArray y1 = new Conv2d("t", w1, null, 1, 0, Precision.FP32).apply(x);
        assertThat(maxRelToMax(y1, reference(x, w1, null, 1, 0, false))).isLessThan(1e-6);
    }

    @Test
    void residualSumIsFusedAndBandsAreViews() {
        INDArray x = random(5, 1, 8, 5, 4);
        INDArray w = random(6, 4, 4, 3, 3);
        Conv2d conv = new Conv2d("t", w, null, 1, 1, Precision.FP32);
        INDArray plain = conv.apply(x);
        INDArray res = random(7, 1, 8, 5, 4);
        INDArray acc = res.dup();
        conv.apply(x, acc, Gemm.Epilogue.NONE.accumulating());
        assertThat(acc.sub(plain.add(res)).amaxNumber().doubleValue()).isLessThan(1e-5);
    }
}
