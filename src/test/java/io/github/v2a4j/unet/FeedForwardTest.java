package io.github.v2a4j.unet;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.v2a4j.nn.NN;
import io.github.v2a4j.nn.Trace;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/** The row-blocked GEGLU feed-forward against the plain formula (the golden bundles are too small to block). */
class FeedForwardTest {

    @Test
    void blockedRowsEqualThePlainFormula() {
        SyntheticParams p = new SyntheticParams(5);
        FeedForward blocked = new FeedForward(p, "ff", 16, 7);   // 2·23 = 46 rows: 6 full blocks + a partial one
        Nd4j.getRandom().setSeed(1);
        INDArray n = Nd4j.randn(DataType.FLOAT, 2, 23, 16);
        INDArray got = blocked.forward(n, Trace.OFF);

        var w = p.tensors();
        INDArray proj = NN.linear(n, w.get("net.0.proj.weight"), w.get("net.0.proj.bias"));
        INDArray a = proj.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(0, 64)).dup();
        INDArray g = proj.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(64, 128)).dup();
        INDArray want = NN.linear(a.mul(NN.gelu(g)), w.get("net.2.weight"), w.get("net.2.bias"));
        assertThat(TestTensors.relErr(got, want)).isLessThan(1e-6);
    }
}
