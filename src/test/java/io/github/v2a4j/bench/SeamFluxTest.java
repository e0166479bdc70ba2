package io.github.v2a4j.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.image.BufferedImage;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The seam measure tells a hard cut at a seam from a seam that looks like every other column. */
class SeamFluxTest {

    /** 64 rows × 400 columns of a slowly moving pattern with noise; from column {@code cut} on, 60 levels brighter. */
    static BufferedImage image(int cut) {
        BufferedImage im = new BufferedImage(400, 64, BufferedImage.TYPE_INT_RGB);
        SplittableRandom rng = new SplittableRandom(3);
        for (int c = 0; c < 400; c++) {
            for (int r = 0; r < 64; r++) {
                int v = (int) (100 + 20 * Math.sin(c * 0.1 + r) + rng.nextInt(11) - 5) + (c >= cut ? 60 : 0);
                im.setRGB(c, r, v << 16 | v << 8 | v);
            }
        }
        return im;
    }

    @Test
    void aHardCutAtASeamStandsOutAndAnOrdinarySeamDoesNot() {
        double[] cut = SeamFlux.measure(image(200), new int[] {150, 200});
        double[] none = SeamFlux.measure(image(Integer.MAX_VALUE), new int[] {150, 200});
        // a 60-level step over 64 rows is a flux of 480 against about 40 elsewhere
        assertThat(cut[0]).isGreaterThan(5);
        assertThat(none[0]).isLessThan(1.5);
        // the spread of ordinary columns does not depend on the seams
        assertThat(cut[1]).isCloseTo(none[1], org.assertj.core.data.Offset.offset(0.05));
        assertThat(none[1]).isBetween(1.0, 1.5);
    }
}
