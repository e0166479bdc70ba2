package io.github.v2a4j.vae;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.factory.Nd4j;

class VaeImageProcessorTest {

    /** A float x with fl(fl(x/2 + 0.5)·255) == target exactly (target = k + 0.5). */
    private static float decodedValueFor(float target) {
        float v = target / 255f;
        for (int i = 0; i < 1000; i++) {
            float x = (v - 0.5f) * 2f;
            float p = (x / 2f + 0.5f) * 255f;
            if (p == target) return x;
            v = p < target ? Math.nextUp(v) : Math.nextDown(v);
        }
        throw new AssertionError("no float maps to " + target);
    }

    @Test
    void denormalizesClampsAndRoundsHalfToEvenChannelsLast() {
        float half126 = decodedValueFor(126.5f); // numpy round → 126 (half-up would give 127)
        float half127 = decodedValueFor(127.5f); // → 128
        // [1, 3, 1, 4]: R, G, B planes
        float[] chw = {
            -1f, 1f, 0f, half126,
            -3f, 3f, half127, 0.999f,
            -0.5f, 0.5f, 2f / 255f - 1f, -1.001f};
        VaeImageProcessor.Rgb rgb = VaeImageProcessor.postprocess(Nd4j.createFromArray(chw).reshape(1, 3, 1, 4));
        assertThat(rgb.height()).isEqualTo(1);
        assertThat(rgb.width()).isEqualTo(4);
        int[] got = new int[12];
        for (int i = 0; i < 12; i++) got[i] = rgb.hwc()[i] & 0xff;
        int b3 = (int) Math.rint((((2f / 255f - 1f) / 2f) + 0.5f) * 255f);
        assertThat(got).containsExactly(
                0, 0, 64,          // pixel 0: R=-1 → 0, G clamped, B=-0.5 → 63.75 → 64
                255, 255, 191,     // pixel 1: B 0.5 → 0.75·255 = 191.25 → 191
                128, 128, b3,      // pixel 2: R 0 → 127.5 → 128 (even)
                126, 255, 0);      // pixel 3: R 126.5 → 126 (even), G 0.9995·255 = 254.87 → 255, B clamped
        assertThat(b3).isEqualTo(1);

        float[] hwc = VaeImageProcessor.denormalizeToHwc(Nd4j.createFromArray(chw).reshape(3, 1, 4));
        assertThat(hwc[0]).isEqualTo(0f);
        assertThat(hwc[1]).isEqualTo(0f);
        assertThat(hwc[2]).isEqualTo(0.25f);
        assertThat(rgb.toBufferedImage().getRGB(1, 0) & 0xffffff).isEqualTo(0xffffbf);
    }
}
