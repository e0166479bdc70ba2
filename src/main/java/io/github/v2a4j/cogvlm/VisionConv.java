package io.github.v2a4j.cogvlm;

import io.github.v2a4j.nn.Buffers;
import io.github.v2a4j.nn.Binder;
import io.github.v2a4j.nn.NN;
import io.github.v2a4j.nn.Trace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * {@code model.vision.conv}: drops cls, lays the patch tokens out as the {@code g×g} grid (channels first) and applies
 * the 2×2 stride-2 convolution: {@code [F, 1+g², C]} → {@code [F, (g/2)², C]}, rows in row-major grid order.
 */
public final class VisionConv {

    private final String path;
    private final long channels;
    private final INDArray weight;
    private final INDArray bias;

    public VisionConv(Binder p, CogVlmConfig.Vision cfg) {
        this.path = p.path();
        this.channels = cfg.hiddenSize();
        weight = p.conv("weight", channels, channels, 2, 2);
        bias = p.get("bias", channels);
    }

    public INDArray forward(INDArray x, Trace trace) {
        long frames = x.size(0);
        long tokens = x.size(1) - 1;
        int g = (int) Math.round(Math.sqrt(tokens));
        INDArray grid = x.get(NDArrayIndex.all(), NDArrayIndex.interval(1, tokens + 1), NDArrayIndex.all())
                .reshape('c', frames, g, g, channels).permute(0, 3, 1, 2).dup('c');
        INDArray merged = NN.conv2d(grid, weight, bias, 2, 0);
        Buffers.release(grid);
        trace.record(path + ".out", merged);
        long m = merged.size(2) * merged.size(3);
        INDArray seq = merged.reshape('c', frames, channels, m).permute(0, 2, 1).dup('c');
        Buffers.release(merged);
        return seq;
    }
}
