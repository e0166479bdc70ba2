package io.github.v2a4j.vae;

import io.github.v2a4j.nn.NN;
import io.github.v2a4j.nn.Trace;
import io.github.v2a4j.nn.Weights;
import org.nd4j.linalg.api.ndarray.INDArray;

/** {@code nn.Conv2d(cin, cout, k, stride 1, padding k/2)} with bias, under its upstream module path. */
final class Conv2d {
    private final String path;
    private final INDArray weight;
    private final INDArray bias;
    private final int pad;

    Conv2d(Weights w, String path, int cin, int cout, int kernel) {
        this.path = path;
        this.weight = w.get(path + ".weight", cout, cin, kernel, kernel);
        this.bias = w.get(path + ".bias", cout);
        this.pad = kernel / 2;
    }

    /** A new array; {@code x} is left untouched. Large inputs are convolved in bands of rows ({@link BandedConv}). */
    INDArray forward(INDArray x, Trace trace) {
        INDArray y = x.length() * 4 > BandedConv.bandBytes
                ? BandedConv.conv(BandedConv.of(x), new long[] {x.size(0), x.size(1), x.size(3)}, weight, bias, pad)
                : NN.conv2d(x, weight, bias, 1, pad);
        trace.record(path + ".out", y);
        return y;
    }

    /** The convolution of the nearest-×2 upsampled {@code x}, made band by band (the ×2 image never exists whole). */
    INDArray forwardUpsampled2x(INDArray x, Trace trace) {
        INDArray y = BandedConv.conv(BandedConv.nearest2x(x), new long[] {x.size(0), x.size(1), x.size(3) * 2},
                weight, bias, pad);
        trace.record(path + ".out", y);
        return y;
    }
}
