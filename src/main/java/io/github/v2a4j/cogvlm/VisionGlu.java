package io.github.v2a4j.cogvlm;

import io.github.v2a4j.nn.Binder;
import io.github.v2a4j.nn.Buffers;
import io.github.v2a4j.nn.Eltwise;
import io.github.v2a4j.nn.Gemm;
import io.github.v2a4j.nn.Linear;
import io.github.v2a4j.nn.Norms;
import io.github.v2a4j.nn.Trace;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The adapter {@code GLU} ({@code model.vision.linear_proj}): {@code linear_proj} (vision hidden → LLM hidden, no bias)
 * → {@code norm1} LayerNorm (PyTorch default eps 1e-5, not the vision eps) → exact GELU → {@code dense_4h_to_h(
 * SiLU(gate_proj(y)) ⊙ dense_h_to_4h(y))}, no biases.
 */
public final class VisionGlu {

    private final String path;
    private final Linear proj;
    private final INDArray normWeight;
    private final INDArray normBias;
    private final Linear hTo4h;
    private final Linear gate;
    private final Linear fourHToH;

    public VisionGlu(Binder p, CogVlmConfig cfg) {
        this.path = p.path();
        long d = cfg.hiddenSize();
        long i = cfg.intermediateSize();
        proj = p.dense("linear_proj", d, cfg.vision().hiddenSize(), false);
        normWeight = p.get("norm1.weight", d);
        normBias = p.get("norm1.bias", d);
        hTo4h = p.dense("dense_h_to_4h", i, d, false);
        gate = p.dense("gate_proj", i, d, false);
        fourHToH = p.dense("dense_4h_to_h", d, i, false);
    }

    /** {@code x [frames, tokens, vision hidden]} → {@code [frames, tokens, hidden]}. */
    public INDArray forward(INDArray x, Trace trace) {
        INDArray y = proj.apply(x);
        trace.record(path + ".linear_proj.out", y);
        Norms.layerNorm(y, normWeight, normBias, CogVlmConfig.ADAPTER_LAYER_NORM_EPS, y);
        trace.record(path + ".norm1.out", y);
        Eltwise.geluInPlace(y);
        trace.record(path + ".act1.out", y);
        INDArray u = hTo4h.apply(y);
        trace.record(path + ".dense_h_to_4h.out", u);
        long[] shape = u.shape();
        INDArray g = Buffers.take(shape);
        boolean traced = trace.wants(path + ".gate_proj.out");
        // SiLU(gate)·up in the gate GEMM's output pass, unless the gate's own output is traced
        gate.apply(y, g, traced ? Gemm.Epilogue.NONE : Gemm.Epilogue.NONE.silu().times(u));
        if (traced) {
            trace.record(path + ".gate_proj.out", g);
            Eltwise.siluInPlace(g).muli(u);
        }
        Buffers.release(y, u);
        INDArray out = fourHToH.apply(g);
        Buffers.release(g);
        trace.record(path + ".dense_4h_to_h.out", out);
        trace.record(path + ".out", out);
        return out;
    }
}
