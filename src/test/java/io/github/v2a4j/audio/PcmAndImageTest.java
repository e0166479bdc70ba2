package io.github.v2a4j.audio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.v2a4j.nn.FiniteGuard;
import java.awt.image.BufferedImage;
import org.junit.jupiter.api.Test;

/** audioop / pydub / numpy integer semantics and riffusion's image codec, on hand-checked values. */
class PcmAndImageTest {

    @Test
    void mulFloorsAndSaturatesLikeAudioop() {
        // CPython audioop.mul([3,-3,100,-100,32767,-32768,7], 2, 0.5 / 1.5), checked with /usr/bin/python3
        short[] s = {3, -3, 100, -100, 32767, -32768, 7};
        assertThat(Pcm.mul(s, 0.5)).containsExactly(1, -2, 50, -50, 16383, -16384, 3);
        assertThat(Pcm.mul(s, 1.5)).containsExactly(4, -5, 150, -150, 32767, -32768, 10);
    }

    @Test
    void rmsTruncatesAndMaxCountsMinus32768As32768() {
        assertThat(Pcm.rms(new short[] {3, 4})).isEqualTo(3); // sqrt(12.5) = 3.54
        assertThat(Pcm.max(new short[] {3, -32768, 7})).isEqualTo(32768);
        assertThat(Pcm.dBFS(new short[] {0, 0})).isEqualTo(Double.NEGATIVE_INFINITY);
    }

    @Test
    void fromWaveformTruncatesTowardZero() {
        short[] p = Pcm.fromWaveform(new float[] {0.5f, -2.0f, 1.0f, -1.0f});
        // scale 32767/2 = 16383.5: 8191.75 → 8191, −32767, 16383.5 → 16383, −16383.5 → −16383
        assertThat(p).containsExactly(8191, -32767, 16383, -16383);
    }

    @Test
    void aNonFiniteWaveformStopsBeforeItBecomesPcm() {
        SpectrogramConverter.requireFinite(new float[] {0.1f, -0.2f}, 0, 1); // finite: goes on
        assertThatThrownBy(() -> SpectrogramConverter.requireFinite(new float[] {0.1f, Float.NaN, 0.3f}, 1, 2))
                .isInstanceOf(FiniteGuard.NonFiniteException.class)
                .hasMessage("Griffin-Lim gave NaN at sample 1 of 3 of channel 1; its input came from the spectrogram "
                        + "image");
    }

    @Test
    void normalizePeaksAtHeadroom() {
        short[] s = {1000, -2000, 500};
        short[] n = Pcm.normalize(s, 0.1);
        // pydub.effects.normalize([1000, -2000, 500], 0.1) with /usr/bin/python3: [16196, -32393, 8098]
        assertThat(n).containsExactly(16196, -32393, 8098);
    }

    @Test
    void imageCodecFlipsInvertsAndTakesRed() {
        SpectrogramParams p = SpectrogramParams.builder().numFrequencies(2).build();
        BufferedImage img = new BufferedImage(1, 2, BufferedImage.TYPE_INT_RGB);
        img.setRGB(0, 0, 0x000000); // top row: R=0 → full amplitude, the highest mel band
        img.setRGB(0, 1, 0xff0000);   // bottom row: R=255 → 0
        float[] mel = SpectrogramImage.toSpectrogram(img, p)[0];
        assertThat(mel).containsExactly(0f, 30e6f);
        BufferedImage back = SpectrogramImage.fromSpectrogram(new float[][] {mel}, 2, 1, 0.25);
        assertThat(back.getRGB(0, 0) & 0xffffff).isEqualTo(0x000000);
        assertThat(back.getRGB(0, 1) & 0xffffff).isEqualTo(0xffffff);
    }

    @Test
    void stereoUsesGreenAndBlue() {
        SpectrogramParams p = SpectrogramParams.builder().numFrequencies(1).stereo(true).build();
        BufferedImage img = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB);
        img.setRGB(0, 0, 0x12ff00); // R ignored, G=255 → 0, B=0 → max
        float[][] m = SpectrogramImage.toSpectrogram(img, p);
        assertThat(m[0]).containsExactly(0f);
        assertThat(m[1]).containsExactly(30e6f);
        BufferedImage back = SpectrogramImage.fromSpectrogram(m, 1, 1, 0.25);
        assertThat(back.getRGB(0, 0) & 0xffffff).isEqualTo(0x00ff00);
    }

    @Test
    void riffusionDefaults() {
        SpectrogramParams p = SpectrogramParams.defaults();
        assertThat(p.nFft()).isEqualTo(17640);
        assertThat(p.winLength()).isEqualTo(4410);
        assertThat(p.hopLength()).isEqualTo(441);
        assertThat(p.nFreqs()).isEqualTo(8821);
        assertThat(p.numFrequencies()).isEqualTo(512);
        assertThat(p.numGriffinLimIters()).isEqualTo(32);
        assertThat(p.melScaleNorm()).isNull();
        assertThat(p.melScaleType()).isEqualTo("htk");
    }
}
