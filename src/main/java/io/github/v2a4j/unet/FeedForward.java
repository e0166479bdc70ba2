package io.github.v2a4j.unet;

import io.github.v2a4j.nn.NN;
import io.github.v2a4j.nn.Trace;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Erf;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * diffusers FeedForward with GEGLU: {@code net.0.proj} C → 8C, split the last dim into {@code [a | g]} (4C each),
 * {@code a · GELU_exact(g)}, then {@code net.2} 4C → C. The GELU and the product go into one dense buffer,
 * which {@code net.2} reads directly.
 */
final class FeedForward {
    final String path;
    private final int inner;
    private final INDArray projW, projB, outW, outB;

    FeedForward(Params p, String path, int channels) {
        this.path = path;
        this.inner = 4 * channels;
        projW = p.get("net.0.proj.weight", 2L * inner, channels);
        projB = p.get("net.0.proj.bias", 2L * inner);
        outW = p.get("net.2.weight", channels, inner);
        outB = p.get("net.2.bias", channels);
    }

    /** n = LN3(x) {@code [B,L,C]} (not modified) → {@code [B,L,C]}. */
    INDArray forward(INDArray n, Trace trace) {
        long b = n.size(0), l = n.size(1);
        INDArray proj = NN.linear(n, projW, projB);
        INDArray p2 = proj.reshape('c', b * l, 2L * inner);
        INDArray a = p2.get(NDArrayIndex.all(), NDArrayIndex.interval(0, inner));
        INDArray g = p2.get(NDArrayIndex.all(), NDArrayIndex.interval(inner, 2L * inner));
        // a·GELU(g) = a·g·0.5·(1 + erf(g/√2)), built in one dense buffer (no temporaries besides it)
        INDArray hidden = Nd4j.createUninitialized(DataType.FLOAT, b * l, inner);
        hidden.assign(g).muli(1.0 / Math.sqrt(2.0));
        Nd4j.getExecutioner().exec(new Erf(hidden, hidden));
        hidden.addi(1.0).muli(0.5).muli(g).muli(a);
        Ops.free(proj);
        if (trace.wants(path + ".net.0.out")) trace.record(path + ".net.0.out", hidden.reshape(b, l, inner));
        INDArray out = NN.linear(hidden, outW, outB).reshape('c', b, l, n.size(2));
        Ops.free(hidden);
        trace.record(path + ".out", out);
        return out;
    }
}
