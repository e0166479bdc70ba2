package io.github.v2a4j.cogvlm;

import io.github.v2a4j.nn.Attention;
import io.github.v2a4j.nn.Binder;
import io.github.v2a4j.nn.NN;
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
    private final INDArray qkvWeight;
    private final INDArray qkvBias;
    private final INDArray denseWeight;
    private final INDArray denseBias;

    VisionAttention(Binder p, CogVlmConfig.Vision cfg) {
        this.path = p.path();
        this.hidden = cfg.hiddenSize();
        this.heads = cfg.numHeads();
        qkvWeight = p.linear("query_key_value.weight", 3L * hidden, hidden);
        qkvBias = p.get("query_key_value.bias", 3L * hidden);
        denseWeight = p.linear("dense.weight", hidden, hidden);
        denseBias = p.get("dense.bias", hidden);
    }

    /** {@code x [frames, tokens, hidden]} → same shape. */
    INDArray forward(INDArray x, Trace trace) {
        INDArray qkv = NN.linear(x, qkvWeight, qkvBias);
        trace.record(path + ".query_key_value.out", qkv);
        // [3][heads][hd] along the channel dim: q, k, v are the three contiguous thirds.
        INDArray q = qkv.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(0, hidden)).dup('c');
        INDArray k = qkv.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(hidden, 2 * hidden)).dup('c');
        INDArray v = qkv.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(2 * hidden, 3 * hidden)).dup('c');
        Release.free(qkv);
        INDArray context = Attention.sdpa(q, k, v, heads, heads, false);
        Release.free(q);
        Release.free(k);
        Release.free(v);
        INDArray out = NN.linear(context, denseWeight, denseBias);
        Release.free(context);
        trace.record(path + ".dense.out", out);
        trace.record(path + ".out", out);
        return out;
    }
}
