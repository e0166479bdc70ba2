package io.github.v2a4j.cogvlm;

import io.github.v2a4j.nn.Binder;
import io.github.v2a4j.nn.Buffers;
import io.github.v2a4j.nn.Eltwise;
import io.github.v2a4j.nn.Gemm;
import io.github.v2a4j.nn.Linear;
import io.github.v2a4j.nn.Trace;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@code VisionExpertMLP} ({@code model.layers.i.mlp}) reduced to its {@code language_mlp}:
 * {@code down_proj(SiLU(gate_proj(x)) ⊙ up_proj(x))}, no biases.
 */
final class DecoderMlp {

    private final String path;
    private final Linear gate;
    private final Linear up;
    private final Linear down;

    DecoderMlp(Binder mlp, CogVlmConfig cfg) {
        this.path = mlp.path();
        Binder p = mlp.at("language_mlp");
        long d = cfg.hiddenSize();
        long i = cfg.intermediateSize();
        gate = p.dense("gate_proj", i, d, false);
        up = p.dense("up_proj", i, d, false);
        down = p.dense("down_proj", d, i, false);
    }

    INDArray forward(INDArray x, Trace trace) {
        INDArray u = up.apply(x);
        long[] shape = u.shape();
        INDArray g = Buffers.take(shape);
        boolean traced = trace.wants(path + ".language_mlp.gate_proj.out");
        // SiLU(gate)·up in the gate GEMM's output pass, unless the gate's own output is traced
        gate.apply(x, g, traced ? Gemm.Epilogue.NONE : Gemm.Epilogue.NONE.silu().times(u));
        if (traced) trace.record(path + ".language_mlp.gate_proj.out", g);
        trace.record(path + ".language_mlp.up_proj.out", u);
        if (traced) Eltwise.siluInPlace(g).muli(u);
        Buffers.release(u);
        INDArray out = down.apply(g);
        Buffers.release(g);
        trace.record(path + ".language_mlp.down_proj.out", out);
        trace.record(path + ".language_mlp.out", out);
        trace.record(path + ".out", out);
        return out;
    }
}
