package io.github.v2a4j.vae;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The fused channels-last GroupNorm(+SiLU) against the plain channels-first formula in double (its slow twin). */
class FusedGroupNormTest {

    private static double[] plain(INDArray x, int groups, INDArray gamma, INDArray beta, double eps, boolean silu) {
        int b = (int) x.size(0), c = (int) x.size(1), hw = (int) (x.length() / (b * c));
        double[] in = x.dup('c').data().asDouble();
        double[] out = new double[in.length];
        int per = c / groups;
        for (int n = 0; n < b; n++) {
            for (int g = 0; g < groups; g++) {
                int start = (n * c + g * per) * hw, len = per * hw;
                double m = 0;
                for (int i = 0; i < len; i++) m += in[start + i];
                m /= len;
                double v = 0;
                for (int i = 0; i < len; i++) v += (in[start + i] - m) * (in[start + i] - m);
                v /= len;
                for (int i = 0; i < len; i++) {
                    int ch = g * per + i / hw;
                    double y = (in[start + i] - m) / Math.sqrt(v + eps) * gamma.getDouble(ch) + beta.getDouble(ch);
                    out[start + i] = silu ? y / (1 + Math.exp(-y)) : y;
                }
            }
        }
        return out;
    }

    /** {@code got} is channels-last; {@code want} channels-first. */
    private static double maxDiff(INDArray got, double[] want) {
        double[] g = Layout.toChannelsFirst(got).data().asDouble();
        double d = 0;
        for (int i = 0; i < g.length; i++) d = Math.max(d, Math.abs(g[i] - want[i]));
        return d;
    }

    @Test
    void matchesPlainFormulaNewAndInPlace() {
        Nd4j.getRandom().setSeed(7);
        // offset mean and small variance: the case a naive float E[x²]−μ² would get wrong
        INDArray x = Nd4j.randn(DataType.FLOAT, 2, 12, 5, 7).muli(0.05).addi(3.0);
        INDArray gamma = Nd4j.randn(DataType.FLOAT, 12);
        INDArray beta = Nd4j.randn(DataType.FLOAT, 12);
        for (boolean silu : new boolean[] {false, true}) {
            double[] want = plain(x, 4, gamma, beta, 1e-6, silu);
            INDArray last = Layout.toChannelsLast(x);
            INDArray before = last.dup();
            INDArray fresh = FusedGroupNorm.apply(last, 4, gamma, beta, 1e-6, silu, false);
            assertThat(last).isEqualTo(before);
            assertThat(maxDiff(fresh, want)).isLessThan(2e-5);
            assertThat(fresh.closeable()).as("a fresh output owns its buffer (can be freed early)").isTrue();
            INDArray y = last.dup();
            INDArray same = FusedGroupNorm.apply(y, 4, gamma, beta, 1e-6, silu, true);
            assertThat(same).isSameAs(y);
            assertThat(maxDiff(y, want)).isLessThan(2e-5);
        }
    }

    /** Token layout {@code [B, L, C]} (the mid-block attention's norm), batch 2, many pixels per statistics chunk. */
    @Test
    void rankThreeTokensAndBatchTwo() {
        Nd4j.getRandom().setSeed(9);
        INDArray first = Nd4j.randn(DataType.FLOAT, 2, 8, 300).muli(2).addi(-1);
        INDArray gamma = Nd4j.randn(DataType.FLOAT, 8);
        INDArray beta = Nd4j.randn(DataType.FLOAT, 8);
        double[] want = plain(first, 4, gamma, beta, 1e-6, false);
        INDArray got = FusedGroupNorm.apply(first.permute(0, 2, 1).dup('c'), 4, gamma, beta, 1e-6, false, false);
        assertThat(maxDiff(got, want)).isLessThan(2e-5);
    }

    @Test
    void acceptsNonContiguousInput() {
        Nd4j.getRandom().setSeed(8);
        // channels-last view of a channels-first array: not dense
        INDArray first = Nd4j.randn(DataType.FLOAT, 1, 4, 6, 6);
        INDArray x = first.permute(0, 2, 3, 1);
        INDArray gamma = Nd4j.ones(DataType.FLOAT, 4);
        INDArray beta = Nd4j.zeros(DataType.FLOAT, 4);
        double[] want = plain(first, 2, gamma, beta, 1e-5, true);
        assertThat(maxDiff(FusedGroupNorm.apply(x, 2, gamma, beta, 1e-5, true, false), want)).isLessThan(2e-6);
        FusedGroupNorm.apply(x, 2, gamma, beta, 1e-5, true, true);
        assertThat(maxDiff(x, want)).isLessThan(2e-6);
    }
}
