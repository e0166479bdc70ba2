package io.github.v2a4j.unet;

import io.github.v2a4j.nn.Binder;
import io.github.v2a4j.nn.Buffers;
import io.github.v2a4j.nn.ChannelsLast;
import io.github.v2a4j.nn.Conv2d;
import io.github.v2a4j.nn.Trace;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * diffusers Upsample2D (use_conv): nearest interpolation to the size of the next skip (not always ×2: an odd width
 * upsamples 1×3 → 1×5), then a 3×3 convolution, channels-last.
 */
final class Upsample2D {
    final String path;
    private final Conv2d conv;

    Upsample2D(Binder p, int channels) {
        this.path = p.path();
        conv = p.conv2d("conv", channels, channels, 3, 1, 1, true);
    }

    INDArray forward(INDArray x, long outH, long outW, Trace trace) {
        INDArray up = ChannelsLast.upsampleNearest(x, (int) outH, (int) outW);
        INDArray out = conv.apply(up);
        Buffers.release(up);
        trace.recordChannelsLast(path + ".out", out);
        return out;
    }
}
