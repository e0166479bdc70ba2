package io.github.v2a4j.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

class FiniteGuardTest {

    @Test
    void findsTheFirstNonFiniteElementOfAnyLayout() {
        INDArray x = Nd4j.rand(DataType.FLOAT, 3, 5, 7);
        assertThat(FiniteGuard.firstNonFinite(x)).isEqualTo(-1);
        x.putScalar(new long[] {2, 1, 3}, Float.NaN);
        assertThat(FiniteGuard.firstNonFinite(x)).isEqualTo(2 * 35 + 7 + 3);
        x.putScalar(new long[] {0, 0, 1}, Float.NEGATIVE_INFINITY);
        assertThat(FiniteGuard.firstNonFinite(x)).isEqualTo(1);
        // views, other orders and dtypes are checked in C order of their own shape
        INDArray view = x.get(NDArrayIndex.point(2), NDArrayIndex.all(), NDArrayIndex.all());
        assertThat(FiniteGuard.firstNonFinite(view)).isEqualTo(7 + 3);
        assertThat(FiniteGuard.firstNonFinite(view.dup('f'))).isEqualTo(7 + 3);
        assertThat(FiniteGuard.firstNonFinite(view.castTo(DataType.HALF))).isEqualTo(7 + 3);
        assertThat(FiniteGuard.firstNonFinite(Nd4j.createFromArray(1, 2, 3))).isEqualTo(-1);
        // a permuted dense array (a channels-last activation seen channels-first) is read where it lies
        INDArray permuted = x.permute(2, 0, 1); // [7, 3, 5]: the NaN at [2, 1, 3] is now at [3, 2, 1]
        assertThat(FiniteGuard.denseBlock(permuted)).isTrue();
        assertThat(FiniteGuard.firstNonFinite(permuted)).isEqualTo(1 * 15); // the -Inf at [0, 0, 1] → [1, 0, 0]
    }

    @Test
    void theFirstBlockWithANonFiniteOutputIsNamedWithWhereItsInputCameFrom() {
        INDArray ok = Nd4j.ones(DataType.FLOAT, 4);
        INDArray bad = Nd4j.ones(DataType.FLOAT, 4);
        bad.putScalar(2, Float.POSITIVE_INFINITY);
        assertThatThrownBy(() -> FiniteGuard.run("UNet", "the latents of step 3 of 51", () -> {
            Trace.OFF.record("time_proj.out", ok);
            Trace.OFF.record("down_blocks.0.resnets.0.conv1.in.0", bad); // an input: not checked
            Trace.OFF.record("down_blocks.0.resnets.0.conv1.out", bad); // a layer inside a block: its block tells
            Trace.OFF.record("down_blocks.0.resnets.0.out", ok);
            Trace.OFF.record("down_blocks.0.out.1.0", bad);
            return null;
        })).isInstanceOf(FiniteGuard.NonFiniteException.class).hasMessage("UNet: down_blocks.0 gave +Inf (element 2 of 4 "
                + "of its output); its input came from the latents of step 3 of 51 (finite) and every block output "
                + "before it was finite (the last: down_blocks.0.resnets.0)");
        // outside a guard, nothing is checked
        Trace.OFF.record("x.out", bad);
        // a channels-last activation is checked as it lies, though the trace keeps nothing
        INDArray channelsLast = Nd4j.ones(DataType.FLOAT, 1, 2, 2, 3);
        channelsLast.putScalar(new long[] {0, 1, 0, 2}, Float.POSITIVE_INFINITY);
        assertThatThrownBy(() -> FiniteGuard.run("VAE decoder", "the denoised latents", () -> {
            Trace.OFF.recordChannelsLast("decoder.conv_in.out", channelsLast);
            return null;
        })).hasMessageStartingWith("VAE decoder: decoder.conv_in gave +Inf (element 8 of 12")
                .hasMessageEndingWith("its input came from the denoised latents (finite)");
    }
}
