package io.github.v2a4j.vae;

import io.github.v2a4j.nn.Attention;
import io.github.v2a4j.nn.Binder;
import io.github.v2a4j.nn.NN;
import io.github.v2a4j.nn.Trace;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The mid-block self-attention of the VAE (diffusers {@code Attention} with {@code _from_deprecated_attn_block},
 * {@code residual_connection=True}, one head of {@code C} channels): GroupNorm(eps 1e-6) over {@code (B, C, HW)} →
 * tokens {@code (B, HW, C)} → {@code to_q/to_k/to_v} (with bias) → softmax(qkᵀ/√C)·v → {@code to_out.0} → back to
 * {@code (B, C, H, W)} → {@code + x}. Channels last, the activation already is the token matrix: no transposes.
 * At latent 64×148 there are 9472 tokens: the chunked {@link Attention#sdpa} never materialises the 359 MB score
 * matrix.
 */
final class VaeAttention {
    private final String path;
    private final int channels;
    private final GroupNorm groupNorm;
    private final INDArray wq, bq, wk, bk, wv, bv, wo, bo;

    VaeAttention(Binder w, int channels, int groups) {
        this.path = w.path();
        this.channels = channels;
        this.groupNorm = new GroupNorm(w.at("group_norm"), channels, groups, VaeResnetBlock.EPS);
        wq = w.linear("to_q.weight", channels, channels);
        bq = w.get("to_q.bias", channels);
        wk = w.linear("to_k.weight", channels, channels);
        bk = w.get("to_k.bias", channels);
        wv = w.linear("to_v.weight", channels, channels);
        bv = w.get("to_v.bias", channels);
        wo = w.linear("to_out.0.weight", channels, channels);
        bo = w.get("to_out.0.bias", channels);
    }

    /** Consumes {@code x} ({@code [B, H, W, C]}; the residual is added into it). */
    INDArray forward(INDArray x, Trace trace) {
        Layout.record(trace, path + ".in.0", x);
        long b = x.size(0), h = x.size(1), w = x.size(2);
        INDArray tokens = groupNorm.norm(x.reshape('c', b, h * w, channels), trace);
        INDArray q = linear(tokens, wq, bq, "to_q", trace);
        INDArray k = linear(tokens, wk, bk, "to_k", trace);
        INDArray v = linear(tokens, wv, bv, "to_v", trace);
        Buffers.release(tokens);
        INDArray attended = Attention.sdpa(q, k, v, 1, 1, false);
        Buffers.release(q);
        Buffers.release(k);
        Buffers.release(v);
        INDArray projected = linear(attended, wo, bo, "to_out.0", trace);
        Buffers.release(attended);

        INDArray out = NN.contiguous(x);
        out.reshape('c', b, h * w, channels).addi(projected);
        Buffers.release(projected);
        Layout.record(trace, path + ".out", out);
        return out;
    }

    private INDArray linear(INDArray tokens, INDArray weight, INDArray bias, String name, Trace trace) {
        INDArray y = NN.linear(tokens, weight, bias);
        trace.record(path + "." + name + ".out", y);
        return y;
    }
}
