package io.github.v2a4j.bench;

import java.awt.image.BufferedImage;
import java.util.Arrays;

/**
 * How audible the seams of a long generation are, measured on its spectrogram image: the spectral flux between
 * consecutive columns ({@code sqrt(Σ_rows (v[c] − v[c−1])²)} over the image's values, i.e. the mel spectrogram as
 * the image holds it), at each seam against the median flux elsewhere. A hard cut between two unrelated sounds
 * shows as a flux well above the median at the cut; a seam that cannot be told from the rest of the sound sits
 * within the spread of the ordinary columns (reported as their 95th percentile over the median).
 */
public final class SeamFlux {
    private SeamFlux() {}

    /** Columns either side of a seam whose flux counts as the seam's. */
    public static final int REACH = 2;

    /**
     * @param seams the image columns where a window begins or ends
     * @return {@code [max over seams of the largest flux within REACH columns / median elsewhere, p95 elsewhere /
     *         median elsewhere]}
     */
    public static double[] measure(BufferedImage image, int[] seams) {
        double[] flux = flux(image);
        boolean[] near = new boolean[flux.length];
        for (int s : seams) {
            for (int c = Math.max(1, s - REACH); c <= Math.min(flux.length - 1, s + REACH); c++) near[c] = true;
        }
        double[] elsewhere = new double[flux.length];
        int n = 0;
        for (int c = 1; c < flux.length; c++) if (!near[c]) elsewhere[n++] = flux[c];
        double[] sorted = Arrays.copyOf(elsewhere, n);
        Arrays.sort(sorted);
        double median = sorted[n / 2];
        double p95 = sorted[(int) (0.95 * (n - 1))];
        double worst = 0;
        for (int s : seams) {
            for (int c = Math.max(1, s - REACH); c <= Math.min(flux.length - 1, s + REACH); c++) {
                worst = Math.max(worst, flux[c]);
            }
        }
        return new double[] {worst / median, p95 / median};
    }

    /** Flux between column c−1 and c for every c ≥ 1 (entry 0 is 0), over the red channel (the one riffusion reads). */
    static double[] flux(BufferedImage image) {
        int w = image.getWidth();
        int h = image.getHeight();
        double[] f = new double[w];
        int[] prev = image.getRGB(0, 0, 1, h, null, 0, 1);
        for (int c = 1; c < w; c++) {
            int[] col = image.getRGB(c, 0, 1, h, null, 0, 1);
            double s = 0;
            for (int r = 0; r < h; r++) {
                double d = ((col[r] >> 16) & 0xff) - ((prev[r] >> 16) & 0xff);
                s += d * d;
            }
            f[c] = Math.sqrt(s);
            prev = col;
        }
        return f;
    }
}
