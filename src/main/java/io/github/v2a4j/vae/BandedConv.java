package io.github.v2a4j.vae;

import io.github.v2a4j.nn.Buffers;
import io.github.v2a4j.nn.NN;
import java.nio.FloatBuffer;
import java.util.stream.IntStream;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * A stride-1 "same" convolution on a channels-last activation computed in bands of output rows, each from its input
 * rows plus a halo of {@code pad} rows. The rows come from a {@link RowSource}, which lets the upsampler produce each
 * band of its ×2 image on the fly instead of materialising it (620 MB before the last block at 512×1184).
 *
 * <p>Rows at the image border see PyTorch's zero padding (the conv's own padding); rows inside see their true
 * neighbours from the halo, so the result equals the one-piece convolution (tested).
 */
final class BandedConv {
    /** Input bytes per band; large enough that oneDNN runs at full speed, small next to a 300–600 MB activation. */
    static final long DEFAULT_BAND_BYTES = 48L << 20;

    /** Band size in use; tests lower it to exercise banding at tiny sizes. */
    static long bandBytes = DEFAULT_BAND_BYTES;

    /** Input rows {@code [from, to)} of a {@code [B, H, W, C]} activation of {@link #height()} rows, as a dense array. */
    interface RowSource {
        int height();

        INDArray rows(int from, int to);
    }

    /**
     * The rows of {@code x} upsampled ×2 by nearest neighbour (PyTorch {@code interpolate(scale_factor=2)}), made per
     * band from the source rows it needs.
     */
    static RowSource nearest2x(INDArray x) {
        INDArray dense = NN.contiguous(x);
        return new RowSource() {
            public int height() {
                return (int) x.size(1) * 2;
            }

            public INDArray rows(int from, int to) {
                return upsampledRows(dense, from, to);
            }
        };
    }

    /**
     * Rows {@code [from, to)} of the nearest-×2 upsampling of the dense channels-last {@code x}: output row r, column
     * j is input row r/2, column j/2 — each C-vector is copied twice along the row, each row twice.
     */
    static INDArray upsampledRows(INDArray x, int from, int to) {
        int batch = (int) x.size(0), h = (int) x.size(1), w = (int) x.size(2), c = (int) x.size(3);
        INDArray out = Buffers.take(batch, to - from, 2L * w, c);
        FloatBuffer in = x.data().asNioFloat(), dst = out.data().asNioFloat();
        int rowIn = w * c, rowOut = 2 * w * c, rows = to - from;
        IntStream.range(0, batch * rows).parallel().forEach(task -> {
            int b = task / rows, r = task % rows;
            float[] src = new float[rowIn];
            float[] up = new float[rowOut];
            in.get((int) (((long) b * h + (from + r) / 2) * rowIn), src, 0, rowIn);
            for (int j = 0; j < w; j++) {
                System.arraycopy(src, j * c, up, 2 * j * c, c);
                System.arraycopy(src, j * c, up, (2 * j + 1) * c, c);
            }
            dst.put((int) (((long) b * rows + r) * rowOut), up, 0, rowOut);
        });
        return out;
    }

    /**
     * {@code conv2d(src, weight, bias, stride 1, pad)}, channels last, with output rows computed a band at a time; a
     * band holds as many rows as fit {@link #bandBytes} of input.
     *
     * @param batchWidthChannels {@code {B, W, Cin}} of the source
     */
    static INDArray conv(RowSource src, long[] batchWidthChannels, io.github.v2a4j.nn.Conv2d conv) {
        long batch = batchWidthChannels[0], width = batchWidthChannels[1], cin = batchWidthChannels[2];
        int height = src.height();
        int pad = conv.padding();
        int bandRows = (int) Math.max(2 * pad + 1, bandBytes / (batch * cin * width * 4));
        INDArray out = Buffers.take(batch, height, width, conv.outChannels());
        for (int r0 = 0; r0 < height; r0 += bandRows) {
            int r1 = Math.min(height, r0 + bandRows);
            int from = Math.max(0, r0 - pad), to = Math.min(height, r1 + pad);
            INDArray in = src.rows(from, to);
            INDArray y = conv.apply(in);
            Buffers.release(in);
            out.get(NDArrayIndex.all(), NDArrayIndex.interval(r0, r1), NDArrayIndex.all(), NDArrayIndex.all())
                    .assign(y.get(NDArrayIndex.all(), NDArrayIndex.interval(r0 - from, r1 - from), NDArrayIndex.all(),
                            NDArrayIndex.all()));
            Buffers.release(y);
        }
        return out;
    }
}
