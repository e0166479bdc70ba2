package io.github.v2a4j.nn;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The oneDNN products against the plain formula in double (the slow twin), fp32 and bf16. */
class GemmTest {

    static INDArray random(long seed, long... shape) {
        SplittableRandom r = new SplittableRandom(seed);
        long n = 1;
        for (long s : shape) n *= s;
        float[] v = new float[(int) n];
        for (int i = 0; i < v.length; i++) v[i] = (float) (r.nextDouble() * 2 - 1);
        return Nd4j.create(v, shape, 'c');
    }

    /** Round-to-nearest-even to bf16, as oneDNN's reorder does. */
    static float bf16(float x) {
        int b = Float.floatToRawIntBits(x);
        b = (b + 0x7FFF + ((b >>> 16) & 1)) & 0xFFFF0000;
        return Float.intBitsToFloat(b);
    }

    /** {@code x [rows, in] · w[out, in]ᵀ + b} in double, inputs optionally rounded to bf16 first. */
    static double[][] reference(INDArray x, INDArray w, INDArray b, boolean roundBf16) {
        int rows = (int) x.size(0), in = (int) x.size(1), out = (int) w.size(0);
        float[] xv = x.dup('c').data().asFloat(), wv = w.dup('c').data().asFloat();
        double[][] y = new double[rows][out];
        for (int i = 0; i < rows; i++) {
            for (int o = 0; o < out; o++) {
                double s = b == null ? 0 : b.getFloat(o);
                for (int k = 0; k < in; k++) {
                    float xa = xv[i * in + k], wa = wv[o * in + k];
                    if (roundBf16) {
                        xa = bf16(xa);
                        wa = bf16(wa);
                    }
                    s += (double) xa * wa;
                }
                y[i][o] = s;
            }
        }
        return y;
    }

    static double maxRelToMax(INDArray got, double[][] ref) {
        double maxErr = 0, maxRef = 0;
        for (int i = 0; i < ref.length; i++) {
            for (int j = 0; j < ref[i].length; j++) {
                maxErr = Math.max(maxErr, Math.abs(got.getDouble(i, j) - ref[i][j]));
                maxRef = Math.max(maxRef, Math.abs(ref[i][j]));
            }
        }
        return maxErr / maxRef;
    }

    @Test
    void linearFp32MatchesThePlainFormula() {
        for (int[] s : new int[][] {{1, 7, 5}, {33, 64, 17}, {130, 96, 200}}) {
            INDArray x = random(1, s[0], s[1]);
            INDArray w = random(2, s[2], s[1]);
            INDArray b = random(3, s[2]);
            Linear lin = new Linear("t", w, b, Precision.FP32);
            INDArray y = lin.apply(x);
            // fp32 accumulation of up to 96 terms of magnitude ≤ 1
            assertThat(maxRelToMax(y, reference(x, w, b, false))).as("shape %s", java.util.Arrays.toString(s))
                    .isLessThan(1e-6);
        }
    }

    @Test
    void linearBf16IsTheProductOfRoundedOperandsAccumulatedInFp32() {
        INDArray x = random(4, 70, 96);
        INDArray w = random(5, 48, 96);
        INDArray b = random(6, 48);
        INDArray y = new Linear("t", w, b, Precision.BF16).apply(x);
        // bf16 products are exact in fp32; only the fp32 accumulation differs from double
        assertThat(maxRelToMax(y, reference(x, w, b, true))).isLessThan(1e-6);
        // and it is a bf16 result, not an fp32 one: the rounding of the inputs shows
        assertThat(maxRelToMax(y, reference(x, w, b, false))).isGreaterThan(1e-4);
    }

    @Test
    void linearTakesABf16CheckpointWeightAndRankThreeInput() {
        INDArray x = random(7, 2, 5, 24);
        INDArray w = random(8, 12, 24);
        INDArray wb = w.castTo(DataType.BFLOAT16);
        INDArray y32 = new Linear("t", wb, null, Precision.FP32).apply(x);
        assertThat(y32.shape()).containsExactly(2, 5, 12);
        INDArray ref = x.reshape(10, 24).mmul(wb.castTo(DataType.FLOAT).transpose()).reshape(2, 5, 12);
        assertThat(y32.sub(ref).amaxNumber().doubleValue()).isLessThan(1e-5);
    }

    @Test
    void epiloguesAreFused() {
        INDArray x = random(9, 16, 32);
        INDArray w = random(10, 24, 32);
        INDArray b = random(11, 24);
        Linear lin = new Linear("t", w, b, Precision.FP32);
        INDArray plain = lin.apply(x);

        INDArray residual = random(12, 16, 24);
        INDArray acc = residual.dup();
        lin.apply(x, acc, Gemm.Epilogue.NONE.accumulating());
        assertThat(acc.sub(plain.add(residual)).amaxNumber().doubleValue()).isLessThan(1e-5);

        INDArray g = Buffers.take(16, 24);
        INDArray m = random(13, 16, 24);
        lin.apply(x, g, Gemm.Epilogue.NONE.gelu().times(m));
        INDArray expect = Nd4j.createUninitialized(DataType.FLOAT, 16, 24);
        for (int i = 0; i < 16; i++) {
            for (int j = 0; j < 24; j++) {
                double v = plain.getDouble(i, j);
                double gelu = 0.5 * v * (1 + org.apache.commons.math3.special.Erf.erf(v / Math.sqrt(2)));
                expect.putScalar(i, j, gelu * m.getDouble(i, j));
            }
        }
        assertThat(g.sub(expect).amaxNumber().doubleValue()).isLessThan(1e-5);
    }

    @Test
    void batchedMatmulReadsHeadsThroughStrides() {
        // q [B, L, H·D] read as [B, H, L, D]; k read as [B, H, D, L]: the attention's QKᵀ without head copies
        int bsz = 2, l = 9, h = 3, d = 4;
        INDArray q = random(14, bsz, l, h * d);
        INDArray k = random(15, bsz, l, h * d);
        INDArray qh = q.reshape('c', bsz, l, h, d).permute(0, 2, 1, 3);
        INDArray kt = k.reshape('c', bsz, l, h, d).permute(0, 2, 3, 1);
        INDArray scores = Nd4j.createUninitialized(DataType.FLOAT, bsz, h, l, l);
        Gemm.matmul(qh, kt, scores, null, Gemm.Epilogue.NONE.scaled(0.5f));
        INDArray expect = Nd4j.matmul(qh.dup('c'), kt.dup('c')).muli(0.5);
        assertThat(scores.sub(expect).amaxNumber().doubleValue()).isLessThan(1e-5);
    }

    @Test
    void repeatedCallsReuseTheirPrimitives() {
        INDArray x = random(16, 8, 16);
        Linear lin = new Linear("t", random(17, 4, 16), null, Precision.BF16);
        lin.apply(x);
        int built = Dnnl.cachedCount();
        long packed = lin.packedBytes();
        for (int i = 0; i < 5; i++) lin.apply(x);
        assertThat(Dnnl.cachedCount()).isEqualTo(built);
        assertThat(lin.packedBytes()).isEqualTo(packed).isPositive();
    }
}
