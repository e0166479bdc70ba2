package io.github.v2a4j.nn;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.factory.Nd4j;

class TraceTest {

    @Test
    void repeatedCallsGetTheSuffixOnTheModulePath() {
        assertThat(Trace.repeated("down_blocks.0.resnets.1.out", 1)).isEqualTo("down_blocks.0.resnets.1@1.out");
        assertThat(Trace.repeated("unet.out.0", 3)).isEqualTo("unet@3.out.0");
        assertThat(Trace.repeated("attn1.in.0", 2)).isEqualTo("attn1@2.in.0");
        assertThat(Trace.repeated("layers.0.output_norm.out", 1)).isEqualTo("layers.0.output_norm@1.out");
    }

    @Test
    void recordsCopiesInOrderAndFiltersByGlob() {
        Trace t = Trace.matching(List.of("down_blocks.*.out", "conv_in.out"));
        var x = Nd4j.ones(2);
        t.record("conv_in.out", x);
        t.record("down_blocks.0.out", x);
        t.record("down_blocks.0.out", x);
        t.record("mid_block.out", x);
        x.addi(1); // a recording is a copy, not a view of a buffer the model reuses
        assertThat(t.recorded().keySet()).containsExactly("conv_in.out", "down_blocks.0.out", "down_blocks.0@1.out");
        assertThat(t.recorded().get("conv_in.out").getDouble(0)).isEqualTo(1.0);
        assertThat(Trace.OFF.wants("anything")).isFalse();
    }
}
