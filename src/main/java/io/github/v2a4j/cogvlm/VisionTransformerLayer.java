package io.github.v2a4j.cogvlm;

import io.github.v2a4j.nn.Binder;
import io.github.v2a4j.nn.Buffers;
import io.github.v2a4j.nn.Norms;
import io.github.v2a4j.nn.Trace;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * EVA2-CLIP {@code TransformerLayer} ({@code model.vision.transformer.layers.i}). Post-branch norm, unlike
 * pre-norm ViTs: {@code x + LN_in(attn(x))}, then {@code h + LN_post(mlp(h))}; LayerNorm eps from the vision config
 * (1e-6).
 */
public final class VisionTransformerLayer {

    private final String path;
    private final double eps;
    private final INDArray inNormWeight;
    private final INDArray inNormBias;
    private final INDArray postNormWeight;
    private final INDArray postNormBias;
    private final VisionAttention attention;
    private final VisionMlp mlp;

    public VisionTransformerLayer(Binder p, CogVlmConfig.Vision cfg) {
        this.path = p.path();
        this.eps = cfg.layerNormEps();
        long d = cfg.hiddenSize();
        inNormWeight = p.get("input_layernorm.weight", d);
        inNormBias = p.get("input_layernorm.bias", d);
        postNormWeight = p.get("post_attention_layernorm.weight", d);
        postNormBias = p.get("post_attention_layernorm.bias", d);
        attention = new VisionAttention(p.at("attention"), cfg);
        mlp = new VisionMlp(p.at("mlp"), cfg);
    }

    /** {@code x [frames, tokens, hidden]} → a new array of the same shape ({@code x} is left untouched). */
    public INDArray forward(INDArray x, Trace trace) {
        INDArray a = attention.forward(x, trace);
        Norms.layerNorm(a, inNormWeight, inNormBias, eps, a);
        trace.record(path + ".input_layernorm.out", a);
        INDArray h = a.addi(x);
        INDArray m = mlp.forward(h, trace);
        Norms.layerNorm(m, postNormWeight, postNormBias, eps, m);
        trace.record(path + ".post_attention_layernorm.out", m);
        INDArray out = m.addi(h);
        Buffers.release(h);
        trace.record(path + ".out", out);
        return out;
    }
}
