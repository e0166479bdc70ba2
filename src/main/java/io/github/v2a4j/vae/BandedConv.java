package io.github.v2a4j.vae;

import io.github.v2a4j.nn.NN;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * A stride-1 "same" convolution computed in bands of output rows, each from its input rows plus a halo of
 * {@code pad} rows. Why: the oneDNN convolution reorders its whole input and output into blocked layouts, so one
 * 256-channel conv at 512×1184 briefly holds ~4 copies of a 620 MB activation; in bands the transient is a few
 * band-sized buffers and the full-size memory is just the input and the output. The rows come from a
 * {@link RowSource}, which lets the upsampler produce each band of its ×2 image on the fly instead of materialising it.
 *
 * <p>Rows at the image border see PyTorch's zero padding (the conv's own padding); rows inside see their true
 * neighbours from the halo, so the result equals the one-piece convolution (tested).
 */
final class BandedConv {
    /** Input bytes per band; large enough that oneDNN runs at full speed, small next to a 300–600 MB activation. */
    static final long DEFAULT_BAND_BYTES = 48L << 20;

    /** Band size in use; tests lower it to exercise banding at tiny sizes. */
    static long bandBytes = DEFAULT_BAND_BYTES;

    /** Input rows {@code [from, to)} of an NCHW activation of {@link #height()} rows, as a dense array. */
    interface RowSource {
        int height();

        INDArray rows(int from, int to);
    }

    /** The rows of an existing activation (copied per band: the conv op gets a dense input). */
    static RowSource of(INDArray x) {
        return new RowSource() {
            public int height() {
                return (int) x.size(2);
            }

            public INDArray rows(int from, int to) {
                return x.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(from, to), NDArrayIndex.all())
                        .dup('c');
            }
        };
    }

    /**
     * The rows of {@code x} upsampled ×2 by nearest neighbour (PyTorch {@code interpolate(scale_factor=2)}), made per
     * band from the source rows it needs.
     */
    static RowSource nearest2x(INDArray x) {
        return new RowSource() {
            public int height() {
                return (int) x.size(2) * 2;
            }

            public INDArray rows(int from, int to) {
                int s0 = from / 2, s1 = (to - 1) / 2 + 1;
                INDArray src = x.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(s0, s1),
                        NDArrayIndex.all()).dup('c');
                INDArray up = NN.upsampleNearest(src, 2 * (s1 - s0), (int) x.size(3) * 2);
                Buffers.release(src);
                if (from == 2 * s0 && to == 2 * s1) return up;
                INDArray band = up.get(NDArrayIndex.all(), NDArrayIndex.all(),
                        NDArrayIndex.interval(from - 2 * s0, to - 2 * s0), NDArrayIndex.all()).dup('c');
                Buffers.release(up);
                return band;
            }
        };
    }

    /**
     * {@code conv2d(src, weight, bias, stride 1, pad)} with output rows computed a band at a time; a band holds as
     * many rows as fit {@link #bandBytes} of input.
     *
     * @param batchChannelsWidth {@code {B, Cin, W}} of the source
     */
    static INDArray conv(RowSource src, long[] batchChannelsWidth, INDArray weight, INDArray bias, int pad) {
        long batch = batchChannelsWidth[0], cin = batchChannelsWidth[1], width = batchChannelsWidth[2];
        int height = src.height();
        int bandRows = (int) Math.max(2 * pad + 1, bandBytes / (batch * cin * width * 4));
        INDArray out = Nd4j.createUninitialized(DataType.FLOAT, batch, weight.size(0), height, width);
        for (int r0 = 0; r0 < height; r0 += bandRows) {
            int r1 = Math.min(height, r0 + bandRows);
            int from = Math.max(0, r0 - pad), to = Math.min(height, r1 + pad);
            INDArray in = src.rows(from, to);
            INDArray y = NN.conv2d(in, weight, bias, 1, pad);
            Buffers.release(in);
            out.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(r0, r1), NDArrayIndex.all())
                    .assign(y.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(r0 - from, r1 - from),
                            NDArrayIndex.all()));
            Buffers.release(y);
        }
        return out;
    }
}
