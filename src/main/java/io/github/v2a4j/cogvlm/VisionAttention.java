package io.github.v2a4j.cogvlm;

import io.github.v2a4j.nn.Attention;
import io.github.v2a4j.nn.Binder;
import io.github.v2a4j.nn.Buffers;
import io.github.v2a4j.nn.Linear;
import io.github.v2a4j.nn.Precision;
import io.github.v2a4j.nn.Trace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * EVA2-CLIP {@code Attention} ({@code model.vision.transformer.layers.i.attention}): fused {@code query_key_value}
 * with bias whose output is laid out {@code [3][heads][headDim]}, bidirectional softmax attention with scale
 * {@code 1/√headDim}, heads concatenated, {@code dense} with bias.
 */
final class VisionAttention {

    private final String path;
    private final int hidden;
    private final int heads;
    private final Precision precision;
    private final Linear qkv;
    private final Linear dense;

    VisionAttention(Binder p, CogVlmConfig.Vision cfg) {
        this.path = p.path();
        this.hidden = cfg.hiddenSize();
        this.heads = cfg.numHeads();
        this.precision = p.precision();
        qkv = p.dense("query_key_value", 3L * hidden, hidden, true);
        dense = p.dense("dense", hidden, hidden, true);
    }

    /** {@code x [frames, tokens, hidden]} → same shape. */
    INDArray forward(INDArray x, Trace trace) {
        INDArray mixed = qkv.apply(x);
        trace.record(path + ".query_key_value.out", mixed);
        // [3][heads][hd] along the channel dim: q, k, v are the three contiguous thirds, read in place
        INDArray q = mixed.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(0, hidden));
        INDArray k = mixed.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(hidden, 2 * hidden));
        INDArray v = mixed.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(2 * hidden, 3 * hidden));
        INDArray context = Attention.sdpa(q, k, v, heads, heads, false, precision);
        Buffers.release(mixed);
        INDArray out = dense.apply(context);
        Buffers.release(context);
        trace.record(path + ".dense.out", out);
        trace.record(path + ".out", out);
        return out;
    }
}
