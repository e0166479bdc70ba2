package io.github.v2a4j.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.github.v2a4j.cogvlm.CogVlmConfig;
import io.github.v2a4j.pipeline.Stage;
import io.github.v2a4j.pipeline.Video2AudioPipeline;
import io.github.v2a4j.unet.UNetConfig;
import io.github.v2a4j.vae.VaeConfig;
import org.junit.jupiter.api.Test;

/** The rehearsal's FLOP counts of a video longer than 12 s: per window and per VAE tile, as the pipeline plans them. */
class StageFlopsTest {

    private static StageFlops flops(int seconds) {
        int f = VaeConfig.sd1().scaleFactor();
        return new StageFlops(CogVlmConfig.real(), UNetConfig.k4(), VaeConfig.sd1(), 96, new int[] {9, 14}, 512 / f,
                Video2AudioPipeline.spectrogramWidth(seconds) / f, Video2AudioPipeline.spectrogramWidth(12) / f);
    }

    @Test
    void aLongVideoCountsEachWindowsVideoPassUNetEvaluationsAndVaeTile() {
        StageFlops s12 = flops(12);
        StageFlops s60 = flops(60);
        // 12 s: 148 latent columns, one window; 60 s: 748 columns, windows of 148 overlapping by >= 37 (7), VAE tiles
        // overlapping by >= 16 (6)
        assertThat(s12.windows()).isEqualTo(1);
        assertThat(s12.tiles()).isEqualTo(1);
        assertThat(s60.windows()).isEqualTo(7);
        assertThat(s60.tiles()).isEqualTo(6);
        assertThat(s60.of(Stage.ENCODE_VIDEO, 0, true)).isCloseTo(7 * s12.of(Stage.ENCODE_VIDEO, 0, true),
                within(1e3));
        // the black video is encoded once whatever the length; the prompts do not depend on it
        assertThat(s60.of(Stage.ENCODE_BLACK_VIDEO, 0, true)).isEqualTo(s12.of(Stage.ENCODE_BLACK_VIDEO, 0, true));
        assertThat(s60.of(Stage.ENCODE_PROMPT, 0, true)).isEqualTo(s12.of(Stage.ENCODE_PROMPT, 0, true));
        // the profile's denoising units are evaluations × windows, each over one window's columns
        assertThat(s60.of(Stage.DENOISE, 7 * 51, true)).isCloseTo(7 * s12.of(Stage.DENOISE, 51, true), within(1e3));
        assertThat(s60.of(Stage.VAE_DECODE, 0, true)).isCloseTo(6 * s12.of(Stage.VAE_DECODE, 0, true), within(1e3));
        assertThat(s12.of(Stage.AUDIO, 0, true)).isNaN();
    }

    @Test
    void theBlackClipRunsTheVisionTowerOnOneFrameAndCachedPassesCountNothing() {
        StageFlops s12 = flops(12);
        double video = s12.of(Stage.ENCODE_VIDEO, 0, true);
        double black = s12.of(Stage.ENCODE_BLACK_VIDEO, 0, true);
        // 96 distinct frames against one: the black pass is the decoder's share plus 1/96 of the tower's
        assertThat(black).isLessThan(0.4 * video).isGreaterThan(0.2 * video);
        assertThat(s12.of(Stage.ENCODE_BLACK_VIDEO, 0, false)).isZero();
        assertThat(s12.of(Stage.ENCODE_PROMPT, 0, false)).isZero();
        assertThat(s12.of(Stage.ENCODE_PROMPT, 0, true)).isPositive();
    }
}
