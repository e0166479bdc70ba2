package io.github.v2a4j.unet;

import io.github.v2a4j.nn.Binder;
import io.github.v2a4j.nn.NN;
import io.github.v2a4j.nn.Trace;
import org.nd4j.linalg.api.ndarray.INDArray;

/** diffusers Downsample2D (use_conv, padding 1): {@code conv} 3×3 stride 2 → {@code ceil(n/2)} per side. */
final class Downsample2D {
    final String path;
    private final INDArray convW, convB;

    Downsample2D(Binder p, int channels) {
        this.path = p.path();
        convW = p.conv("conv.weight", channels, channels, 3, 3);
        convB = p.get("conv.bias", channels);
    }

    INDArray forward(INDArray x, Trace trace) {
        INDArray out = NN.conv2d(x, convW, convB, 2, 1);
        trace.record(path + ".out", out);
        return out;
    }
}
