package io.github.v2a4j.nn;

import static io.github.v2a4j.nn.GemmTest.random;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

/** The oneDNN norms against the plain formulas of {@link NN} (double statistics). */
class NormsTest {

    @Test
    void layerNormMatchesThePlainFormula() {
        INDArray x = random(1, 3, 17, 40).muli(3).addi(0.5);
        INDArray g = random(2, 40), b = random(3, 40);
        INDArray want = NN.layerNorm(x, g, b, 1e-5);
        assertThat(Norms.layerNorm(x, g, b, 1e-5).sub(want).amaxNumber().doubleValue()).isLessThan(2e-6);
        assertThat(Norms.layerNorm(x, g, null, 1e-5).sub(NN.layerNorm(x, g, null, 1e-5)).amaxNumber().doubleValue())
                .isLessThan(2e-6);
    }

    @Test
    void groupNormChannelsLastMatchesTheNchwFormula() {
        INDArray nchw = random(4, 2, 12, 5, 7).muli(2).addi(1);
        INDArray g = random(5, 12), b = random(6, 12);
        INDArray nhwc = nchw.permute(0, 2, 3, 1).dup('c');
        for (boolean silu : new boolean[] {false, true}) {
            INDArray want = NN.groupNormInPlace(nchw.dup('c'), 4, g, b, 1e-6, silu).permute(0, 2, 3, 1);
            INDArray y = nhwc.dup('c');
            Norms.groupNorm(y, 4, g, b, 1e-6, silu, y);
            assertThat(y.sub(want).amaxNumber().doubleValue()).as("silu %s", silu).isLessThan(2e-6);
        }
    }
}
