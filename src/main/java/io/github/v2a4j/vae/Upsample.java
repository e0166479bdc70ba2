package io.github.v2a4j.vae;

import io.github.v2a4j.nn.NN;
import io.github.v2a4j.nn.Trace;
import io.github.v2a4j.nn.Weights;
import org.nd4j.linalg.api.ndarray.INDArray;

/** diffusers {@code Upsample2D(use_conv=True)} without an explicit size: nearest ×2, then {@code conv} 3×3. */
final class Upsample {
    private final String path;
    private final Conv2d conv;

    Upsample(Weights w, String path, int channels) {
        this.path = path;
        this.conv = new Conv2d(w, path + ".conv", channels, channels, 3);
    }

    /** Consumes {@code x}. */
    INDArray forward(INDArray x, Trace trace) {
        INDArray up = NN.upsampleNearest(x, (int) x.size(2) * 2, (int) x.size(3) * 2);
        Buffers.release(x);
        INDArray out = conv.forward(up, trace);
        Buffers.release(up);
        trace.record(path + ".out", out);
        return out;
    }
}
