package io.github.v2a4j.unet;

import io.github.v2a4j.nn.Binder;
import io.github.v2a4j.nn.Buffers;
import io.github.v2a4j.nn.Gemm;
import io.github.v2a4j.nn.Linear;
import io.github.v2a4j.nn.Norms;
import io.github.v2a4j.nn.Trace;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * diffusers Transformer2DModel as the UNet builds it (use_linear_projection False, one block): GroupNorm (eps 1e-6)
 * → 1×1 {@code proj_in} → tokens → BasicTransformerBlock → 1×1 {@code proj_out} → + input. Channels-last, the
 * activation already is the token matrix {@code [B, H·W, C]}: the 1×1 convolutions are linear layers, and
 * {@code proj_out} adds its result to the residual as it writes it.
 */
final class Transformer2D {
    final String path;
    private final int groups;
    private final INDArray normW, normB;
    private final Linear projIn, projOut;
    private final BasicTransformerBlock block;

    Transformer2D(Binder p, int channels, int heads, int groups, int crossDim, int videoDim, int textDim) {
        this.path = p.path();
        this.groups = groups;
        normW = p.get("norm.weight", channels);
        normB = p.get("norm.bias", channels);
        projIn = p.dense1x1("proj_in", channels, channels, true);
        projOut = p.dense1x1("proj_out", channels, channels, true);
        block = new BasicTransformerBlock(p.at("transformer_blocks.0"), channels, heads, crossDim, videoDim, textDim);
    }

    /** x {@code [B,H,W,C]} (not modified) → {@code [B,H,W,C]}. */
    INDArray forward(INDArray x, Conditioning cond, Trace trace) {
        long b = x.size(0), c = x.size(3), hw = x.size(1) * x.size(2);
        INDArray n = Buffers.take(x.shape());
        Norms.groupNorm(x, groups, normW, normB, 1e-6, false, n);
        trace.recordChannelsLast(path + ".norm.out", n);
        INDArray tokens = projIn.apply(n.reshape('c', b, hw, c));
        Buffers.release(n);
        tokens = block.forward(tokens, cond, trace);
        // hidden_states + residual
        INDArray out = Buffers.take(x.shape());
        out.assign(x);
        projOut.apply(tokens, out.reshape('c', b, hw, c), Gemm.Epilogue.NONE.accumulating());
        Buffers.release(tokens);
        // Transformer2DModel returns a 1-tuple under return_dict=False: recorded as ".out.0"
        trace.recordChannelsLast(path + ".out.0", out);
        return out;
    }
}
