package io.github.v2a4j.pipeline;

import java.util.Arrays;

/**
 * Where the windows of a long latent lie along its time axis (its columns), and how much each window's prediction
 * counts in each column.
 *
 * <p>Every window has the full width the model was trained on (the last one is not cut short: it ends where the
 * latent ends), the windows are spread evenly, and consecutive ones share at least {@code minOverlap} columns. A
 * latent no wider than one window is one window, the whole latent, with weight 1 everywhere.
 *
 * <p>Weights (MultiDiffusion's per-pixel weights {@code W_i}, here per column): 1 inside a window, falling linearly
 * to near 0 over its first and last {@code minOverlap} columns, except at the latent's own ends, where no other
 * window takes over. Normalised per column, so the weights of the windows covering a column sum to 1. Two windows
 * that share exactly {@code minOverlap} columns thus cross-fade linearly; where they share more, the middle of the
 * overlap is their plain average. The ramp keeps a window's edge columns, the ones its convolutions see with zero
 * padding and no context beyond, from counting as much as the other window's prediction there.
 */
public final class LatentWindows {
    private final int width;
    private final int window;
    private final int ramp;
    private final int[] starts;
    private final float[][] weights;

    private LatentWindows(int width, int window, int ramp, int[] starts) {
        this.width = width;
        this.window = window;
        this.ramp = ramp;
        this.starts = starts;
        float[] total = new float[width];
        float[][] raw = new float[starts.length][];
        for (int k = 0; k < starts.length; k++) {
            raw[k] = rawWeights(k);
            for (int j = 0; j < window; j++) total[starts[k] + j] += raw[k][j];
        }
        this.weights = new float[starts.length][window];
        for (int k = 0; k < starts.length; k++) {
            for (int j = 0; j < window; j++) weights[k][j] = raw[k][j] / total[starts[k] + j];
        }
    }

    /**
     * @param width      the latent's columns
     * @param window     columns per window (the model's training width: 148 for 12 s)
     * @param minOverlap columns consecutive windows share at least, {@code 0 < minOverlap < window}
     */
    public static LatentWindows plan(int width, int window, int minOverlap) {
        if (width < 1 || window < 1) throw new IllegalArgumentException("latent " + width + ", window " + window);
        if (width <= window) return new LatentWindows(width, width, minOverlap, new int[] {0});
        if (minOverlap < 1 || minOverlap >= window) {
            throw new IllegalArgumentException("window overlap " + minOverlap + " must be in [1, " + window + ")");
        }
        // the fewest windows whose even spacing keeps every overlap at least minOverlap wide
        int count = 1 + (width - window + window - minOverlap - 1) / (window - minOverlap);
        int[] starts = new int[count];
        long span = width - window;
        for (int k = 0; k < count; k++) starts[k] = (int) ((k * span * 2 + (count - 1)) / (2L * (count - 1)));
        return new LatentWindows(width, window, minOverlap, starts);
    }

    /** Linear ramps over {@code ramp} columns at the window's inner edges, 1 elsewhere; never 0. */
    private float[] rawWeights(int k) {
        float[] w = new float[window];
        boolean left = starts[k] > 0;
        boolean right = starts[k] + window < width;
        for (int j = 0; j < window; j++) {
            double v = 1;
            if (left) v = Math.min(v, (j + 0.5) / ramp);
            if (right) v = Math.min(v, (window - j - 0.5) / ramp);
            w[j] = (float) v;
        }
        return w;
    }

    /** Columns of the whole latent. */
    public int width() {
        return width;
    }

    /** Columns of each window. */
    public int window() {
        return window;
    }

    public int count() {
        return starts.length;
    }

    /** The first column of window {@code k}. */
    public int start(int k) {
        return starts[k];
    }

    /** One past the last column of window {@code k}. */
    public int end(int k) {
        return starts[k] + window;
    }

    /**
     * Window {@code k}'s normalised weight for each of its columns: the share its prediction has in the latent's
     * column {@code start(k) + j}. Exactly 1 where no other window covers the column.
     */
    public float[] weights(int k) {
        return weights[k].clone();
    }

    @Override
    public String toString() {
        return starts.length + " window(s) of " + window + " columns over " + width + " at " + Arrays.toString(starts);
    }
}
