package io.github.v2a4j.vae;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.v2a4j.io.MapSource;
import io.github.v2a4j.nn.Binder;
import io.github.v2a4j.nn.NN;
import io.github.v2a4j.nn.Trace;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/** Banded channels-last convolution (and banded upsample + conv) against the one-piece NCHW computation. */
class BandedConvTest {

    @AfterEach
    void restoreBandSize() {
        BandedConv.bandBytes = BandedConv.DEFAULT_BAND_BYTES;
    }

    /** The rows of an existing channels-last activation, copied per band. */
    private static BandedConv.RowSource rowsOf(INDArray x) {
        return new BandedConv.RowSource() {
            public int height() {
                return (int) x.size(1);
            }

            public INDArray rows(int from, int to) {
                return x.get(NDArrayIndex.all(), NDArrayIndex.interval(from, to), NDArrayIndex.all(), NDArrayIndex.all())
                        .dup('c');
            }
        };
    }

    private static double maxDiff(INDArray a, INDArray b) {
        assertThat(a.shape()).containsExactly(b.shape());
        return a.sub(b).amaxNumber().doubleValue();
    }

    @Test
    void bandsOfEveryHeightGiveTheOnePieceResult() {
        Nd4j.getRandom().setSeed(11);
        INDArray x = Nd4j.randn(DataType.FLOAT, 2, 5, 13, 7);
        for (int k : new int[] {1, 3}) {
            INDArray w = Nd4j.randn(DataType.FLOAT, 6, 5, k, k);
            INDArray b = Nd4j.randn(DataType.FLOAT, 6);
            INDArray want = NN.conv2d(x, w, b, 1, k / 2);
            for (int rows : new int[] {1, 2, 3, 4, 6, 12, 13, 20}) {
                BandedConv.bandBytes = 2L * 5 * 7 * 4 * rows;
                INDArray got = Layout.toChannelsFirst(
                        BandedConv.conv(rowsOf(Layout.toChannelsLast(x)), new long[] {2, 7, 5},
                                new io.github.v2a4j.nn.Conv2d("w", w, b, 1, k / 2, io.github.v2a4j.nn.Precision.FP32)));
                assertThat(maxDiff(got, want)).as("k=%d rows=%d", k, rows).isLessThan(1e-5);
            }
        }
    }

    @Test
    void upsampledRowsAreNearestNeighbour() {
        Nd4j.getRandom().setSeed(13);
        INDArray x = Nd4j.randn(DataType.FLOAT, 2, 3, 5, 4);
        INDArray want = Layout.toChannelsLast(NN.upsampleNearest(x, 10, 8));
        INDArray last = Layout.toChannelsLast(x);
        for (int[] r : new int[][] {{0, 10}, {1, 4}, {3, 4}, {5, 10}}) {
            INDArray got = BandedConv.upsampledRows(last, r[0], r[1]);
            INDArray rows = want.get(NDArrayIndex.all(),
                    NDArrayIndex.interval(r[0], r[1]),
                    NDArrayIndex.all(), NDArrayIndex.all());
            assertThat(got).as("rows %d..%d", r[0], r[1]).isEqualTo(rows.dup('c'));
        }
    }

    @Test
    void bandedUpsampleConvEqualsUpsampleThenConv() {
        Nd4j.getRandom().setSeed(12);
        INDArray x = Nd4j.randn(DataType.FLOAT, 1, 4, 7, 5);
        Map<String, INDArray> p = Map.of("up.conv.weight", Nd4j.randn(DataType.FLOAT, 4, 4, 3, 3),
                "up.conv.bias", Nd4j.randn(DataType.FLOAT, 4));
        INDArray want = NN.conv2d(NN.upsampleNearest(x, 14, 10), p.get("up.conv.weight"), p.get("up.conv.bias"), 1, 1);
        Upsample up = new Upsample(Binder.load(new MapSource(p), "test").at("up"), 4);
        for (int rows : new int[] {1, 2, 3, 5, 14, 30}) {
            BandedConv.bandBytes = 4L * 10 * 4 * rows;
            INDArray got = Layout.toChannelsFirst(up.forward(Layout.toChannelsLast(x), Trace.OFF));
            assertThat(maxDiff(got, want)).as("rows=%d", rows).isLessThan(1e-5);
        }
    }
}
