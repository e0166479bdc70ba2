package io.github.v2a4j.unet;

import io.github.v2a4j.nn.Binder;
import io.github.v2a4j.nn.NN;
import io.github.v2a4j.nn.Trace;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * diffusers Transformer2DModel as the UNet builds it (use_linear_projection False, one block): GroupNorm (eps 1e-6)
 * → 1×1 {@code proj_in} → tokens {@code [B,HW,C]} → BasicTransformerBlock → back to NCHW → 1×1 {@code proj_out} →
 * + input.
 */
final class Transformer2D {
    final String path;
    private final int groups;
    private final INDArray normW, normB, projInW, projInB, projOutW, projOutB;
    private final BasicTransformerBlock block;

    Transformer2D(Binder p, int channels, int heads, int groups, int crossDim, int videoDim,
                  int textDim) {
        this.path = p.path();
        this.groups = groups;
        normW = p.get("norm.weight", channels);
        normB = p.get("norm.bias", channels);
        projInW = p.conv("proj_in.weight", channels, channels, 1, 1);
        projInB = p.get("proj_in.bias", channels);
        projOutW = p.conv("proj_out.weight", channels, channels, 1, 1);
        projOutB = p.get("proj_out.bias", channels);
        block = new BasicTransformerBlock(p.at("transformer_blocks.0"), channels,
                heads, crossDim, videoDim, textDim);
    }

    /** x {@code [B,C,H,W]} (not modified) → {@code [B,C,H,W]}. */
    INDArray forward(INDArray x, Conditioning cond, Trace trace) {
        long h = x.size(2), w = x.size(3);
        INDArray n = NN.groupNorm(x, groups, normW, normB, 1e-6);
        trace.record(path + ".norm.out", n);
        INDArray tokens = Ops.conv1x1ToTokens(n, projInW, projInB);
        Ops.free(n);
        tokens = block.forward(tokens, cond, trace);
        INDArray out = Ops.tokensToConv1x1(tokens, projOutW, projOutB, h, w);
        Ops.free(tokens);
        // hidden_states + residual
        out.addi(x);
        // Transformer2DModel returns a 1-tuple under return_dict=False: recorded as ".out.0"
        trace.record(path + ".out.0", out);
        return out;
    }
}
