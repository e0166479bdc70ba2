package io.github.v2a4j.cogvlm;

import io.github.v2a4j.nn.Binder;
import io.github.v2a4j.nn.NN;
import io.github.v2a4j.nn.Trace;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The adapter {@code GLU} ({@code model.vision.linear_proj}): {@code linear_proj} (vision hidden → LLM hidden, no bias)
 * → {@code norm1} LayerNorm (PyTorch default eps 1e-5, not the vision eps) → exact GELU → {@code dense_4h_to_h(
 * SiLU(gate_proj(y)) ⊙ dense_h_to_4h(y))}, no biases.
 */
public final class VisionGlu {

    private final String path;
    private final INDArray proj;
    private final INDArray normWeight;
    private final INDArray normBias;
    private final INDArray hTo4h;
    private final INDArray gate;
    private final INDArray fourHToH;

    public VisionGlu(Binder p, CogVlmConfig cfg) {
        this.path = p.path();
        long d = cfg.hiddenSize();
        long i = cfg.intermediateSize();
        proj = p.linear("linear_proj.weight", d, cfg.vision().hiddenSize());
        normWeight = p.get("norm1.weight", d);
        normBias = p.get("norm1.bias", d);
        hTo4h = p.linear("dense_h_to_4h.weight", i, d);
        gate = p.linear("gate_proj.weight", i, d);
        fourHToH = p.linear("dense_4h_to_h.weight", d, i);
    }

    /** {@code x [frames, tokens, vision hidden]} → {@code [frames, tokens, hidden]}. */
    public INDArray forward(INDArray x, Trace trace) {
        INDArray y = NN.linear(x, proj, null);
        trace.record(path + ".linear_proj.out", y);
        INDArray n = NN.layerNorm(y, normWeight, normBias, CogVlmConfig.ADAPTER_LAYER_NORM_EPS);
        Release.free(y);
        trace.record(path + ".norm1.out", n);
        NN.geluInPlace(n);
        trace.record(path + ".act1.out", n);
        INDArray g = NN.linear(n, gate, null);
        trace.record(path + ".gate_proj.out", g);
        INDArray u = NN.linear(n, hTo4h, null);
        trace.record(path + ".dense_h_to_4h.out", u);
        Release.free(n);
        NN.siluInPlace(g).muli(u);
        Release.free(u);
        INDArray out = NN.linear(g, fourHToH, null);
        Release.free(g);
        trace.record(path + ".dense_4h_to_h.out", out);
        trace.record(path + ".out", out);
        return out;
    }
}
