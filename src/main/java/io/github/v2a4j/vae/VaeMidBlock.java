package io.github.v2a4j.vae;

import io.github.v2a4j.nn.Binder;
import io.github.v2a4j.nn.Trace;
import org.nd4j.linalg.api.ndarray.INDArray;

/** diffusers {@code UNetMidBlock2D} without time embedding: resnet → attention (optional) → resnet. */
final class VaeMidBlock {
    private final String path;
    private final VaeResnetBlock resnet0;
    private final VaeAttention attention;
    private final VaeResnetBlock resnet1;

    VaeMidBlock(Binder w, int channels, int groups, boolean addAttention) {
        this.path = w.path();
        this.resnet0 = new VaeResnetBlock(w.at("resnets.0"), channels, channels, groups);
        this.attention = addAttention ? new VaeAttention(w.at("attentions.0"), channels, groups) : null;
        this.resnet1 = new VaeResnetBlock(w.at("resnets.1"), channels, channels, groups);
    }

    /** Consumes {@code x}. */
    INDArray forward(INDArray x, Trace trace) {
        Layout.record(trace, path + ".in.0", x);
        INDArray h = resnet0.forward(x, trace);
        if (attention != null) h = attention.forward(h, trace);
        h = resnet1.forward(h, trace);
        Layout.record(trace, path + ".out", h);
        return h;
    }
}
