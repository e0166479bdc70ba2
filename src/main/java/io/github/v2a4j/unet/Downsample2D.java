package io.github.v2a4j.unet;

import io.github.v2a4j.nn.Binder;
import io.github.v2a4j.nn.Conv2d;
import io.github.v2a4j.nn.Trace;
import org.nd4j.linalg.api.ndarray.INDArray;

/** diffusers Downsample2D (use_conv, padding 1): a 3×3 convolution with stride 2, channels-last. */
final class Downsample2D {
    final String path;
    private final Conv2d conv;

    Downsample2D(Binder p, int channels) {
        this.path = p.path();
        conv = p.conv2d("conv", channels, channels, 3, 2, 1, true);
    }

    INDArray forward(INDArray x, Trace trace) {
        INDArray out = conv.apply(x);
        trace.recordChannelsLast(path + ".out", out);
        return out;
    }
}
