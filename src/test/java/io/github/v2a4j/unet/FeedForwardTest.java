package io.github.v2a4j.unet;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.v2a4j.io.MapSource;
import io.github.v2a4j.nn.Binder;
import io.github.v2a4j.nn.NN;
import io.github.v2a4j.nn.Trace;
import io.github.v2a4j.synthetic.SyntheticWeights;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/** The row-blocked GEGLU feed-forward against the plain formula (the golden bundles are too small to block). */
class FeedForwardTest {

    @Test
    void blockedRowsEqualThePlainFormula() {
        SyntheticWeights synthetic = new SyntheticWeights(5);
        Map<String, INDArray> w = new LinkedHashMap<>();
        for (String name : new String[] {"ff.net.0.proj.weight", "ff.net.2.weight"}) {
            w.put(name, synthetic.tensor(name, name.contains("proj") ? new long[] {128, 16} : new long[] {16, 64}));
        }
        w.put("ff.net.0.proj.bias", synthetic.tensor("ff.net.0.proj.bias", 128));
        w.put("ff.net.2.bias", synthetic.tensor("ff.net.2.bias", 16));
        FeedForward blocked = new FeedForward(Binder.load(new MapSource(w), "test").at("ff"), 16, 7);   // 2·23 = 46 rows: 6 full blocks + a partial one
        Nd4j.getRandom().setSeed(1);
        INDArray n = Nd4j.randn(DataType.FLOAT, 2, 23, 16);
        INDArray got = blocked.forward(n, Trace.OFF);

        INDArray proj = NN.linear(n, w.get("ff.net.0.proj.weight"), w.get("ff.net.0.proj.bias"));
        INDArray a = proj.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(0, 64)).dup();
        INDArray g = proj.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(64, 128)).dup();
        INDArray want = NN.linear(a.mul(NN.gelu(g)), w.get("ff.net.2.weight"), w.get("ff.net.2.bias"));
        assertThat(TestTensors.relErr(got, want)).isLessThan(1e-6);
    }
}
