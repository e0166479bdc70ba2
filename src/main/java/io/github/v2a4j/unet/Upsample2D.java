package io.github.v2a4j.unet;

import io.github.v2a4j.nn.Binder;
import io.github.v2a4j.nn.NN;
import io.github.v2a4j.nn.Trace;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * diffusers Upsample2D (use_conv): nearest interpolation to an EXPLICIT size — the spatial size of the next skip,
 * which the UNet passes because 148 is not a multiple of 8 (19 → 37 is not ×2) — then {@code conv} 3×3 pad 1.
 */
final class Upsample2D {
    final String path;
    private final INDArray convW, convB;

    Upsample2D(Binder p, int channels) {
        this.path = p.path();
        convW = p.conv("conv.weight", channels, channels, 3, 3);
        convB = p.get("conv.bias", channels);
    }

    INDArray forward(INDArray x, long outH, long outW, Trace trace) {
        INDArray up = NN.upsampleNearest(x, (int) outH, (int) outW);
        INDArray out = NN.conv2d(up, convW, convB, 1, 1);
        Ops.free(up);
        trace.record(path + ".out", out);
        return out;
    }
}
