package io.github.v2a4j.cogvlm;

import io.github.v2a4j.nn.Attention;
import io.github.v2a4j.nn.Binder;
import io.github.v2a4j.nn.Buffers;
import io.github.v2a4j.nn.Dnnl;
import io.github.v2a4j.nn.Linear;
import io.github.v2a4j.nn.Precision;
import io.github.v2a4j.nn.Trace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * {@code VisionExpertAttention} ({@code model.layers.i.self_attn}) with the vision expert removed, as in the video
 * model: {@code language_expert_query_key_value} (no bias) applied to every token, split into q (heads·hd),
 * k and v (kvHeads·hd each), rotary on q and k, causal GQA attention with scale {@code 1/√hd},
 * {@code language_expert_dense} (no bias).
 */
final class DecoderAttention {

    private final String path;
    private final int heads;
    private final int kvHeads;
    private final int headDim;
    private final Precision precision;
    private final Linear qkv;
    private final Linear dense;
    private final INDArray invFreq;

    DecoderAttention(Binder p, CogVlmConfig cfg) {
        this.path = p.path();
        this.heads = cfg.numAttentionHeads();
        this.kvHeads = cfg.numKvHeads();
        this.headDim = cfg.headDim();
        long d = cfg.hiddenSize();
        this.precision = p.precision();
        qkv = p.dense("language_expert_query_key_value", d + 2L * kvHeads * headDim, d, false);
        dense = p.dense("language_expert_dense", d, d, false);
        invFreq = p.get("rotary_emb.inv_freq", headDim / 2);
    }

    /**
     * A dense copy of a column slice in a buffer of its own (not a view of a longer pooled one: the rotary embedding
     * runs in place on it), reused from the pool when one of exactly that size is free.
     */
    private static INDArray dense(INDArray slice) {
        INDArray d = Buffers.takeExact(slice.dataType(), slice.shape());
        Dnnl.reorder(slice, d);
        return d;
    }

    /** {@code x [1, L, hidden]}, position ids of the L tokens → {@code [1, L, hidden]}. */
    INDArray forward(INDArray x, long[] positions, Trace trace) {
        INDArray mixed = qkv.apply(x);
        trace.record(path + ".language_expert_query_key_value.out", mixed);
        long q1 = (long) heads * headDim;
        long k1 = q1 + (long) kvHeads * headDim;
        long v1 = k1 + (long) kvHeads * headDim;
        INDArray q = dense(mixed.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(0, q1)));
        INDArray k = dense(mixed.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(q1, k1)));
        INDArray v = mixed.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(k1, v1));
        RotaryEmbedding rotary = new RotaryEmbedding(invFreq, headDim); // each layer has its own inv_freq buffer
        float[][][] rope = rotary.tables(positions);
        rotary.applyInPlace(q, heads, rope);
        rotary.applyInPlace(k, kvHeads, rope);
        if (trace.wants(path + ".rotary_emb.out.0")) { // upstream layout (B, heads, L, hd), kv heads not expanded
            long length = q.size(1);
            trace.record(path + ".rotary_emb.out.0", q.reshape('c', 1, length, heads, headDim).permute(0, 2, 1, 3));
            trace.record(path + ".rotary_emb.out.1", k.reshape('c', 1, length, kvHeads, headDim).permute(0, 2, 1, 3));
        }
        // The all-ones mask plus the causal mask is lower-triangular: upstream's attention_fn then runs plain causal SDPA.
        INDArray context = Attention.sdpa(q, k, v, heads, kvHeads, true, precision);
        Buffers.release(q, k, mixed);
        INDArray out = dense.apply(context);
        Buffers.release(context);
        trace.record(path + ".language_expert_dense.out", out);
        trace.record(path + ".out.0", out);
        return out;
    }
}
