package io.github.v2a4j.nn;

import java.nio.FloatBuffer;
import java.util.stream.IntStream;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Layout helpers for channels-last activations {@code [B, H, W, C]}: the layout oneDNN's convolutions read without
 * reorders, and the one a transformer's token matrix {@code [B, H·W, C]} already is. Results come from {@link Buffers}.
 */
public final class ChannelsLast {
    private ChannelsLast() {}

    /** {@code [B, C, H, W]} → a new dense {@code [B, H, W, C]}. */
    public static INDArray fromChannelsFirst(INDArray nchw) {
        INDArray out = Buffers.take(nchw.size(0), nchw.size(2), nchw.size(3), nchw.size(1));
        Dnnl.reorder(nchw.permute(0, 2, 3, 1), out);
        return out;
    }

    /** {@code [B, H, W, C]} → a new dense {@code [B, C, H, W]} (a plain array, not pooled: callers keep it). */
    public static INDArray toChannelsFirst(INDArray nhwc) {
        INDArray out = Nd4j.createUninitialized(DataType.FLOAT, nhwc.size(0), nhwc.size(3), nhwc.size(1), nhwc.size(2));
        Dnnl.reorder(nhwc, out.permute(0, 2, 3, 1));
        return out;
    }

    /** The channel concatenation {@code [a, b]} of two {@code [B, H, W, ·]} activations (UNet skip connections). */
    public static INDArray concat(INDArray a, INDArray b) {
        long ca = a.size(3), cb = b.size(3);
        INDArray out = Buffers.take(a.size(0), a.size(1), a.size(2), ca + cb);
        Dnnl.reorder(a, out.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(0, ca)));
        Dnnl.reorder(b, out.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all(),
                NDArrayIndex.interval(ca, ca + cb)));
        return out;
    }

    /** {@code x[b, :, :, c] += t[b, c]}: a per-image, per-channel bias (the time embedding). */
    public static void addPerImageChannel(INDArray x, INDArray t) {
        long b = x.size(0), c = x.size(3);
        INDArray rows = x.reshape('c', b, x.length() / (b * c), c);
        for (long i = 0; i < b; i++) {
            rows.get(NDArrayIndex.point(i), NDArrayIndex.all(), NDArrayIndex.all())
                    .addiRowVector(t.get(NDArrayIndex.point(i), NDArrayIndex.all()));
        }
    }

    /**
     * PyTorch {@code F.interpolate(mode="nearest", size=(outH, outW))} on {@code [B, H, W, C]}:
     * {@code src = min(floor(dst·in/out), in−1)} with the scale in float as ATen computes it.
     */
    public static INDArray upsampleNearest(INDArray x, int outH, int outW) {
        INDArray xc = NN.contiguous(x);
        int b = (int) x.size(0), inH = (int) x.size(1), inW = (int) x.size(2), c = (int) x.size(3);
        int[] rowSrc = NN.nearestIndex(inH, outH);
        int[] colSrc = NN.nearestIndex(inW, outW);
        INDArray y = Buffers.take(b, outH, outW, c);
        FloatBuffer in = NN.buffer(xc);
        FloatBuffer out = NN.buffer(y);
        IntStream.range(0, b * outH).parallel().forEach(r -> {
            int bi = r / outH, oy = r % outH;
            int src = (bi * inH + rowSrc[oy]) * inW;
            int dst = (bi * outH + oy) * outW;
            float[] run = new float[c];
            for (int ox = 0; ox < outW; ox++) {
                in.get((src + colSrc[ox]) * c, run, 0, c);
                out.put((dst + ox) * c, run, 0, c);
            }
        });
        return y;
    }
}
