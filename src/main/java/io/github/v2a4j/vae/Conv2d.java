package io.github.v2a4j.vae;

import io.github.v2a4j.nn.Binder;
import io.github.v2a4j.nn.NN;
import io.github.v2a4j.nn.Trace;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@code nn.Conv2d(cin, cout, k, stride 1, padding k/2)} with bias, under its upstream module path, on channels-last
 * activations. A 1×1 convolution is a GEMM over pixels ({@link NN#linear}).
 */
final class Conv2d {
    private final String path;
    private final INDArray weight;
    private final INDArray bias;
    private final int pad;

    Conv2d(Binder w, int cin, int cout, int kernel) {
        this.path = w.path();
        this.weight = w.conv("weight", cout, cin, kernel, kernel);
        this.bias = w.get("bias", cout);
        this.pad = kernel / 2;
    }

    /** A new array; {@code x} ({@code [B, H, W, cin]}) is left untouched. */
    INDArray forward(INDArray x, Trace trace) {
        INDArray y = weight.size(2) == 1 ? NN.linear(x, weight.reshape(weight.size(0), weight.size(1)), bias)
                : NN.conv2dChannelsLast(x, weight, bias, pad,
                        Buffers.take(x.size(0), x.size(1), x.size(2), weight.size(0)));
        Layout.record(trace, path + ".out", y);
        return y;
    }

    /** The convolution of the nearest-×2 upsampled {@code x}, made band by band (the ×2 image never exists whole). */
    INDArray forwardUpsampled2x(INDArray x, Trace trace) {
        INDArray y = BandedConv.conv(BandedConv.nearest2x(x), new long[] {x.size(0), x.size(2) * 2, x.size(3)},
                weight, bias, pad);
        Layout.record(trace, path + ".out", y);
        return y;
    }
}
