package io.github.v2a4j.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.github.v2a4j.cogvlm.CogVlmConfig;
import io.github.v2a4j.nn.Precision;
import org.junit.jupiter.api.Test;

/** The benchmark workload at tiny widths (keeps `v2a bench cogvlm` from rotting) and its FLOP counts at real size. */
class CogVlmBenchTest {

    static final CogVlmConfig TINY = new CogVlmConfig(64, 96, 4, 2, 3, 1e-5, 264, 256, 258,
            new CogVlmConfig.Vision(16, 24, 2, 2, 224, 14, 3, 1e-6, 257));

    @Test
    void blocksRunAtTinyWidths() {
        for (CogVlmBench.Result r : new CogVlmBench.Result[] {
            CogVlmBench.visionLayer(TINY, 2, 0, 1, 1, Precision.FP32), CogVlmBench.adapter(TINY, 2, 0, 1, 1, Precision.BF16),
                CogVlmBench.decoderLayer(TINY, 133, 0, 1, 1, Precision.BF16)}) {
            assertThat(r.millis()).hasSize(1);
            assertThat(r.medianMs()).isPositive();
            assertThat(r.gflop()).isPositive();
        }
    }

    @Test
    void realSizeFlopCountsMatchTheSpec() {
        CogVlmConfig real = CogVlmConfig.real();
        // ≈35.4 GFLOP per vision layer per frame (257 tokens)
        assertThat(CogVlmBench.visionLayerGflop(real.vision(), 257)).isCloseTo(35.4, within(0.1));
        // 0.436 GFLOP per decoder layer per token (dense part); causal attention 4·d per unmasked query-key pair
        double l = 6337;
        assertThat(CogVlmBench.decoderLayerGflop(real, 6337) - 4 * (l * (l + 1) / 2) * 4096 / 1e9)
                .isCloseTo(0.436 * l, within(0.001 * l));
    }
}
