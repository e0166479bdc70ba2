package io.github.v2a4j.cogvlm;

import io.github.v2a4j.nn.Binder;
import io.github.v2a4j.nn.Buffers;
import io.github.v2a4j.nn.NN;
import io.github.v2a4j.nn.Trace;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@code CogVLMDecoderLayer} ({@code model.layers.i}), a plain pre-norm Llama layer:
 * {@code h = x + attn(RMSNorm_in(x))}, {@code out = h + mlp(RMSNorm_post(h))}.
 */
public final class DecoderLayer {

    private final String path;
    private final double eps;
    private final INDArray inNorm;
    private final INDArray postNorm;
    private final DecoderAttention attention;
    private final DecoderMlp mlp;

    public DecoderLayer(Binder p, CogVlmConfig cfg) {
        this.path = p.path();
        this.eps = cfg.rmsNormEps();
        inNorm = p.get("input_layernorm.weight", cfg.hiddenSize());
        postNorm = p.get("post_attention_layernorm.weight", cfg.hiddenSize());
        attention = new DecoderAttention(p.at("self_attn"), cfg);
        mlp = new DecoderMlp(p.at("mlp"), cfg);
    }

    /** {@code x [1, L, hidden]} → a new array ({@code x} is left untouched). */
    public INDArray forward(INDArray x, long[] positions, Trace trace) {
        INDArray n = NN.rmsNorm(x, inNorm, eps);
        trace.record(path + ".input_layernorm.out", n);
        INDArray a = attention.forward(n, positions, trace);
        Buffers.release(n);
        INDArray h = a.addi(x);
        INDArray n2 = NN.rmsNorm(h, postNorm, eps);
        trace.record(path + ".post_attention_layernorm.out", n2);
        INDArray m = mlp.forward(n2, trace);
        Buffers.release(n2);
        INDArray out = m.addi(h);
        Buffers.release(h);
        trace.record(path + ".out.0", out);
        return out;
    }
}
