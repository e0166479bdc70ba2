package io.github.v2a4j.cogvlm;

import io.github.v2a4j.nn.Binder;
import io.github.v2a4j.nn.Buffers;
import io.github.v2a4j.nn.Conv2d;
import io.github.v2a4j.nn.Gemm;
import io.github.v2a4j.nn.NN;
import io.github.v2a4j.nn.Trace;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@code model.vision.conv}: drops cls, lays the patch tokens out as the {@code g×g} grid and applies the 2×2
 * stride-2 convolution: {@code [F, 1+g², C]} → {@code [F, (g/2)², C]}, rows in row-major grid order.
 *
 * <p>The tokens after cls already are the grid channels-last ({@code [F, g, g, C]}), and the convolution's
 * channels-last output already is the token sequence, so the convolution reads and writes them as they are (a strided
 * view in, no transposes), in the binder's precision.
 */
public final class VisionConv {

    private final String path;
    private final long channels;
    private final Conv2d conv;

    public VisionConv(Binder p, CogVlmConfig.Vision cfg) {
        this.path = p.path();
        this.channels = cfg.hiddenSize();
        conv = p.conv2d("", channels, channels, 2, 2, 0, true);
    }

    public INDArray forward(INDArray x, Trace trace) {
        long frames = x.size(0);
        long tokens = x.size(1) - 1;
        int g = (int) Math.round(Math.sqrt(tokens));
        if ((long) g * g != tokens || x.size(2) != channels) {
            throw new IllegalArgumentException(path + ": expected [F, 1 + g², " + channels + "] tokens, got "
                    + java.util.Arrays.toString(x.shape()));
        }
        INDArray grid = NN.view(x, new long[] {frames, g, g, channels},
                new long[] {x.stride(0), g * x.stride(1), x.stride(1), x.stride(2)}, x.stride(1));
        long h = conv.outSize(g, 2);
        INDArray seq = Buffers.take(frames, h * h, channels);
        INDArray merged = seq.reshape('c', frames, h, h, channels);
        conv.apply(grid, merged, Gemm.Epilogue.NONE);
        trace.recordChannelsLast(path + ".out", merged);
        return seq;
    }
}
