package io.github.v2a4j.cogvlm;

import io.github.v2a4j.nn.Binder;
import io.github.v2a4j.nn.NN;
import io.github.v2a4j.nn.Trace;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@code VisionExpertMLP} ({@code model.layers.i.mlp}) reduced to its {@code language_mlp}:
 * {@code down_proj(SiLU(gate_proj(x)) ⊙ up_proj(x))}, no biases.
 */
final class DecoderMlp {

    private final String path;
    private final INDArray gate;
    private final INDArray up;
    private final INDArray down;

    DecoderMlp(Binder mlp, CogVlmConfig cfg) {
        this.path = mlp.path();
        Binder p = mlp.at("language_mlp");
        long d = cfg.hiddenSize();
        long i = cfg.intermediateSize();
        gate = p.linear("gate_proj.weight", i, d);
        up = p.linear("up_proj.weight", i, d);
        down = p.linear("down_proj.weight", d, i);
    }

    INDArray forward(INDArray x, Trace trace) {
        INDArray g = NN.linear(x, gate, null);
        trace.record(path + ".language_mlp.gate_proj.out", g);
        INDArray u = NN.linear(x, up, null);
        trace.record(path + ".language_mlp.up_proj.out", u);
        NN.siluInPlace(g).muli(u);
        Release.free(u);
        INDArray out = NN.linear(g, down, null);
        Release.free(g);
        trace.record(path + ".language_mlp.down_proj.out", out);
        trace.record(path + ".language_mlp.out", out);
        trace.record(path + ".out", out);
        return out;
    }
}
