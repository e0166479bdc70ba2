package io.github.v2a4j.vae;

import io.github.v2a4j.nn.Buffers;
import io.github.v2a4j.nn.Attention;
import io.github.v2a4j.nn.Binder;
import io.github.v2a4j.nn.Precision;
import io.github.v2a4j.nn.NN;
import io.github.v2a4j.nn.Trace;
import io.github.v2a4j.nn.Linear;
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
    private final Linear toQ, toK, toV, toOut;
    private final Precision precision;

    VaeAttention(Binder w, int channels, int groups) {
        this.precision = w.precision();
        this.path = w.path();
        this.channels = channels;
        this.groupNorm = new GroupNorm(w.at("group_norm"), channels, groups, VaeResnetBlock.EPS);
        toQ = w.dense("to_q", channels, channels, true);
        toK = w.dense("to_k", channels, channels, true);
        toV = w.dense("to_v", channels, channels, true);
        toOut = w.dense("to_out.0", channels, channels, true);
    }

    /** Consumes {@code x} ({@code [B, H, W, C]}; the residual is added into it). */
    INDArray forward(INDArray x, Trace trace) {
        Layout.record(trace, path + ".in.0", x);
        long b = x.size(0), h = x.size(1), w = x.size(2);
        INDArray tokens = groupNorm.norm(x.reshape('c', b, h * w, channels), trace);
        INDArray q = linear(tokens, toQ, "to_q", trace);
        INDArray k = linear(tokens, toK, "to_k", trace);
        INDArray v = linear(tokens, toV, "to_v", trace);
        Buffers.release(tokens);
        INDArray attended = Attention.sdpa(q, k, v, 1, 1, false, precision);
        Buffers.release(q);
        Buffers.release(k);
        Buffers.release(v);
        INDArray projected = linear(attended, toOut, "to_out.0", trace);
        Buffers.release(attended);

        INDArray out = NN.contiguous(x);
        out.reshape('c', b, h * w, channels).addi(projected);
        Buffers.release(projected);
        Layout.record(trace, path + ".out", out);
        return out;
    }

    private INDArray linear(INDArray tokens, Linear layer, String name, Trace trace) {
        INDArray y = layer.apply(tokens);
        trace.record(path + "." + name + ".out", y);
        return y;
    }
}
