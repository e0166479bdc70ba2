package io.github.v2a4j.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** Where the windows of a long latent lie and what each one's prediction weighs, column by column. */
class LatentWindowsTest {

    @Test
    void aLatentNoWiderThanAWindowIsOneWindowWithWeightOne() {
        for (int width : new int[] {12, 147, 148}) {
            LatentWindows w = LatentWindows.plan(width, 148, 37);
            assertThat(w.count()).isEqualTo(1);
            assertThat(w.start(0)).isZero();
            assertThat(w.window()).isEqualTo(width);
            for (float x : w.weights(0)) assertThat(x).isEqualTo(1f);
        }
    }

    /** 60 s: 5984 spectrogram columns, 748 latent columns; 13 s: 160; 40 s: 500. */
    @Test
    void fullWidthWindowsSpreadEvenlyOverlapAtLeastTheMinimumAndEndAtTheEnd() {
        assertThat(starts(LatentWindows.plan(748, 148, 37))).containsExactly(0, 100, 200, 300, 400, 500, 600);
        assertThat(starts(LatentWindows.plan(160, 148, 37))).containsExactly(0, 12);
        assertThat(starts(LatentWindows.plan(500, 148, 37))).containsExactly(0, 88, 176, 264, 352);
        for (int width = 149; width < 2000; width += 7) {
            LatentWindows w = LatentWindows.plan(width, 148, 37);
            assertThat(w.end(w.count() - 1)).isEqualTo(width);
            for (int k = 1; k < w.count(); k++) {
                assertThat(w.end(k - 1) - w.start(k)).as("overlap at %d of %s", k, w).isGreaterThanOrEqualTo(37);
            }
            // one window fewer could not keep the overlaps
            assertThat((long) (w.count() - 1) * (148 - 37)).isLessThan(width - 37);
        }
    }

    @Test
    void weightsSumToOnePerColumnAndAreExactlyOneWhereOneWindowCovers() {
        for (int width : new int[] {160, 300, 500, 748}) {
            LatentWindows w = LatentWindows.plan(width, 148, 37);
            double[] sum = new double[width];
            int[] covering = new int[width];
            for (int k = 0; k < w.count(); k++) {
                float[] x = w.weights(k);
                for (int j = 0; j < x.length; j++) {
                    assertThat(x[j]).isGreaterThan(0f);
                    sum[w.start(k) + j] += x[j];
                    covering[w.start(k) + j]++;
                }
            }
            for (int c = 0; c < width; c++) {
                assertThat(sum[c]).as("column %d of %s", c, w).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-6));
            }
            for (int k = 0; k < w.count(); k++) {
                float[] x = w.weights(k);
                for (int j = 0; j < x.length; j++) if (covering[w.start(k) + j] == 1) assertThat(x[j]).isEqualTo(1f);
            }
        }
    }

    /** Where two windows share exactly the ramp's width, they cross-fade linearly. */
    @Test
    void anOverlapOfTheRampsWidthIsALinearCrossFade() {
        LatentWindows w = LatentWindows.plan(30, 20, 10); // windows [0, 20) and [10, 30)
        assertThat(starts(w)).containsExactly(0, 10);
        float[] a = w.weights(0);
        float[] b = w.weights(1);
        for (int i = 0; i < 10; i++) {
            assertThat(a[10 + i]).isCloseTo((float) ((10 - i - 0.5) / 10), org.assertj.core.data.Offset.offset(1e-6f));
            assertThat(b[i]).isCloseTo((float) ((i + 0.5) / 10), org.assertj.core.data.Offset.offset(1e-6f));
        }
        assertThat(a[0]).isEqualTo(1f); // the latent's own start: no ramp
        assertThat(b[19]).isEqualTo(1f);
    }

    @Test
    void refusesAnOverlapThatLeavesNoStride() {
        assertThatThrownBy(() -> LatentWindows.plan(300, 148, 148)).hasMessageContaining("overlap 148");
        assertThatThrownBy(() -> LatentWindows.plan(300, 148, 0)).hasMessageContaining("overlap 0");
    }

    private static int[] starts(LatentWindows w) {
        int[] s = new int[w.count()];
        for (int k = 0; k < s.length; k++) s[k] = w.start(k);
        return s;
    }
}
