package io.github.v2a4j.vae;

import io.github.v2a4j.nn.Binder;
import io.github.v2a4j.nn.Buffers;
import io.github.v2a4j.nn.Linear;
import io.github.v2a4j.nn.Trace;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@code nn.Conv2d(cin, cout, k, stride 1, padding k/2)} with bias, under its upstream module path, on channels-last
 * activations, on oneDNN. A 1×1 convolution is a GEMM over pixels.
 */
final class Conv2d {
    private final String path;
    private final io.github.v2a4j.nn.Conv2d conv;
    private final Linear pointwise;

    Conv2d(Binder w, int cin, int cout, int kernel) {
        this.path = w.path();
        // the binder is scoped to the convolution itself: its tensors are "weight" and "bias"
        if (kernel == 1) {
            this.pointwise = w.dense1x1("", cout, cin, true);
            this.conv = null;
        } else {
            this.conv = w.conv2d("", cout, cin, kernel, 1, kernel / 2, true);
            this.pointwise = null;
        }
    }

    /** A new array; {@code x} ({@code [B, H, W, cin]}) is left untouched. */
    INDArray forward(INDArray x, Trace trace) {
        INDArray y = pointwise != null ? pointwise.apply(x) : conv.apply(x);
        Layout.record(trace, path + ".out", y);
        return y;
    }

    /** The convolution of the nearest-×2 upsampled {@code x}, made band by band (the ×2 image never exists whole). */
    INDArray forwardUpsampled2x(INDArray x, Trace trace) {
        INDArray y = BandedConv.conv(BandedConv.nearest2x(x), new long[] {x.size(0), x.size(2) * 2, x.size(3)}, conv);
        Layout.record(trace, path + ".out", y);
        return y;
    }
}
