package io.github.v2a4j.cogvlm;

import io.github.v2a4j.nn.Binder;
import io.github.v2a4j.nn.NN;
import io.github.v2a4j.nn.Trace;
import org.nd4j.linalg.api.ndarray.INDArray;

/** EVA2-CLIP {@code MLP} ({@code ….mlp}): {@code fc2(GELU(fc1(x)))}, exact erf GELU ({@code ACT2FN["gelu"]}). */
final class VisionMlp {

    private final String path;
    private final INDArray fc1Weight;
    private final INDArray fc1Bias;
    private final INDArray fc2Weight;
    private final INDArray fc2Bias;

    VisionMlp(Binder p, CogVlmConfig.Vision cfg) {
        this.path = p.path();
        fc1Weight = p.linear("fc1.weight", cfg.intermediateSize(), cfg.hiddenSize());
        fc1Bias = p.get("fc1.bias", cfg.intermediateSize());
        fc2Weight = p.linear("fc2.weight", cfg.hiddenSize(), cfg.intermediateSize());
        fc2Bias = p.get("fc2.bias", cfg.hiddenSize());
    }

    INDArray forward(INDArray x, Trace trace) {
        INDArray h = NN.linear(x, fc1Weight, fc1Bias);
        trace.record(path + ".fc1.out", h);
        NN.geluInPlace(h);
        trace.record(path + ".activation_fn.out", h);
        INDArray out = NN.linear(h, fc2Weight, fc2Bias);
        Release.free(h);
        trace.record(path + ".fc2.out", out);
        trace.record(path + ".out", out);
        return out;
    }
}
