package io.github.v2a4j.unet;

import io.github.v2a4j.nn.Binder;
import io.github.v2a4j.nn.Buffers;
import io.github.v2a4j.nn.Norms;
import io.github.v2a4j.nn.Trace;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * diffusers BasicTransformerBlock with the K4 processors: {@code x += attn1(LN1(x))} (self-attention + video
 * attention), {@code x += attn2(LN2(x), text)} (cross-attention on projected text), {@code x += ff(LN3(x))} (GEGLU).
 * LayerNorms eps 1e-5, affine. Each branch adds itself to x as its last product writes it.
 */
final class BasicTransformerBlock {
    final String path;
    private final INDArray norm1W, norm1B, norm2W, norm2B, norm3W, norm3B;
    private final VideoSelfAttention attn1;
    private final PromptCrossAttention attn2;
    private final FeedForward ff;

    BasicTransformerBlock(Binder p, int channels, int heads, int crossDim, int videoDim, int textDim) {
        this.path = p.path();
        norm1W = p.get("norm1.weight", channels);
        norm1B = p.get("norm1.bias", channels);
        norm2W = p.get("norm2.weight", channels);
        norm2B = p.get("norm2.bias", channels);
        norm3W = p.get("norm3.weight", channels);
        norm3B = p.get("norm3.bias", channels);
        attn1 = new VideoSelfAttention(p.at("attn1"), channels, heads, videoDim);
        attn2 = new PromptCrossAttention(p.at("attn2"), channels, heads, crossDim, textDim);
        ff = new FeedForward(p.at("ff"), channels);
    }

    /** tokens {@code [B,HW,C]}, updated in place and returned. */
    INDArray forward(INDArray x, Conditioning cond, Trace trace) {
        INDArray n = Norms.layerNorm(x, norm1W, norm1B, 1e-5);
        trace.record(path + ".norm1.out", n);
        attn1.forward(n, cond, x, trace);
        Norms.layerNorm(x, norm2W, norm2B, 1e-5, n);
        trace.record(path + ".norm2.out", n);
        attn2.forward(n, cond, x, trace);
        Norms.layerNorm(x, norm3W, norm3B, 1e-5, n);
        trace.record(path + ".norm3.out", n);
        INDArray f = ff.forward(n, trace);
        x.addi(f);
        Buffers.release(n, f);
        trace.record(path + ".out", x);
        return x;
    }
}
