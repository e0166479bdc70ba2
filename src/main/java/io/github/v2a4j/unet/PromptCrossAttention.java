package io.github.v2a4j.unet;

import io.github.v2a4j.nn.Attention;
import io.github.v2a4j.nn.NN;
import io.github.v2a4j.nn.Trace;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@code attn2} with K4's PromptAttnProcessor2_0: the text embeddings go through
 * {@code processor.text_projection} (textDim → cross-attention width) and then standard cross-attention. All text
 * slots attend, zero-padded ones included (no mask).
 */
final class PromptCrossAttention {
    final String path;
    private final int heads;
    private final INDArray toQ, toK, toV, toOutW, toOutB, textProjW, textProjB;

    PromptCrossAttention(Params p, String path, int channels, int heads, int crossDim, int textDim) {
        this.path = path;
        this.heads = heads;
        toQ = p.get("to_q.weight", channels, channels);
        toK = p.get("to_k.weight", channels, crossDim);
        toV = p.get("to_v.weight", channels, crossDim);
        toOutW = p.get("to_out.0.weight", channels, channels);
        toOutB = p.get("to_out.0.bias", channels);
        textProjW = p.get("processor.text_projection.weight", crossDim, textDim);
        textProjB = p.get("processor.text_projection.bias", crossDim);
    }

    /** n = LN2(x) {@code [B,HW,C]} (not modified) → {@code [B,HW,C]}. */
    INDArray forward(INDArray n, Conditioning cond, Trace trace) {
        INDArray q = NN.linear(n, toQ, null);
        INDArray[] kv = cond.keysValues(path, () -> {
            INDArray ctx = NN.linear(cond.text, textProjW, textProjB);
            trace.record(path + ".processor.text_projection.out", ctx);
            return new INDArray[]{NN.linear(ctx, toK, null), NN.linear(ctx, toV, null)};
        });
        INDArray o = Attention.sdpa(q, kv[0], kv[1], heads, heads, false);
        Ops.free(q);
        INDArray out = NN.linear(o, toOutW, toOutB);
        Ops.free(o);
        trace.record(path + ".out", out);
        return out;
    }
}
