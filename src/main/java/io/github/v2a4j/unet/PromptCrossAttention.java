package io.github.v2a4j.unet;

import io.github.v2a4j.nn.Attention;
import io.github.v2a4j.nn.Binder;
import io.github.v2a4j.nn.Buffers;
import io.github.v2a4j.nn.Linear;
import io.github.v2a4j.nn.Precision;
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
    private final Precision precision;
    private final Linear toQ, toK, toV, toOut, textProjection;

    PromptCrossAttention(Binder p, int channels, int heads, int crossDim, int textDim) {
        this.path = p.path();
        this.heads = heads;
        this.precision = p.precision();
        toQ = p.dense("to_q", channels, channels, false);
        toK = p.dense("to_k", channels, crossDim, false);
        toV = p.dense("to_v", channels, crossDim, false);
        toOut = p.dense("to_out.0", channels, channels, true);
        textProjection = p.dense("processor.text_projection", crossDim, textDim, true);
    }

    /** n = LN2(x) {@code [B,HW,C]} (not modified); adds the branch output to {@code residual}. */
    void forward(INDArray n, Conditioning cond, INDArray residual, Trace trace) {
        INDArray q = toQ.apply(n);
        INDArray[] kv = cond.keysValues(path, () -> {
            INDArray ctx = textProjection.apply(cond.text);
            trace.record(path + ".processor.text_projection.out", ctx);
            return new INDArray[]{toK.apply(ctx), toV.apply(ctx)};
        });
        INDArray o = Attention.sdpa(q, kv[0], kv[1], heads, heads, false, precision);
        Buffers.release(q);
        INDArray out = toOut.apply(o);
        Buffers.release(o);
        trace.record(path + ".out", out);
        residual.addi(out);
        Buffers.release(out);
    }
}
