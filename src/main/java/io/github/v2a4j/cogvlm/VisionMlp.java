package io.github.v2a4j.cogvlm;

import io.github.v2a4j.nn.Binder;
import io.github.v2a4j.nn.Buffers;
import io.github.v2a4j.nn.Eltwise;
import io.github.v2a4j.nn.Gemm;
import io.github.v2a4j.nn.Linear;
import io.github.v2a4j.nn.Trace;
import org.nd4j.linalg.api.ndarray.INDArray;

/** EVA2-CLIP {@code MLP} ({@code ….mlp}): {@code fc2(GELU(fc1(x)))}, exact erf GELU ({@code ACT2FN["gelu"]}). */
final class VisionMlp {

    private final String path;
    private final Linear fc1;
    private final Linear fc2;

    VisionMlp(Binder p, CogVlmConfig.Vision cfg) {
        this.path = p.path();
        fc1 = p.dense("fc1", cfg.intermediateSize(), cfg.hiddenSize(), true);
        fc2 = p.dense("fc2", cfg.hiddenSize(), cfg.intermediateSize(), true);
    }

    INDArray forward(INDArray x, Trace trace) {
        long[] shape = x.shape().clone();
        shape[shape.length - 1] = fc1.out();
        INDArray h = Buffers.take(shape);
        if (trace.wants(path + ".fc1.out")) {
            fc1.apply(x, h, Gemm.Epilogue.NONE);
            trace.record(path + ".fc1.out", h);
            Eltwise.geluInPlace(h);
        } else {
            // the exact GELU in the GEMM's output pass: the 15360-wide activation is written once
            fc1.apply(x, h, Gemm.Epilogue.NONE.gelu());
        }
        trace.record(path + ".activation_fn.out", h);
        INDArray out = fc2.apply(h);
        Buffers.release(h);
        trace.record(path + ".fc2.out", out);
        trace.record(path + ".out", out);
        return out;
    }
}
