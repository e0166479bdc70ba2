package io.github.v2a4j.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.github.v2a4j.unet.UNetConfig;
import org.junit.jupiter.api.Test;

class BenchUnetCommandTest {

    @Test
    void flopCountMatchesTheSpec() {
        // base 2.231 + video 0.089 + text-projection 0.010 = 2.33 TFLOP per batch-1 forward, as bench_unet.py counts
        double f = BenchUnetCommand.flops(UNetConfig.k4(), 64, 148, 96, 100);
        assertThat(f / 1e12).isCloseTo(2.33, within(0.005));
    }
}
