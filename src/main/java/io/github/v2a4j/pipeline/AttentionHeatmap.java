package io.github.v2a4j.pipeline;

import java.awt.image.BufferedImage;
import java.util.Collection;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Renders the UNet's video-attention weights as an image: x = audio time (latent columns, 80 ms each at the real
 * size), y = video frame (frame 0 at the top), brightness = attention averaged over heads, frequency rows and the
 * recorded denoising evaluations. Shows which frames each stretch of the generated audio listens to.
 */
public final class AttentionHeatmap {
    private AttentionHeatmap() {}

    /** Trace name of a layer's weights, e.g. {@code up_blocks.3.attentions.2.transformer_blocks.0.attn1}. */
    public static String traceName(String layer) {
        return layer + ".processor.video_attention_weights.out";
    }

    /**
     * @param recorded   the layer's recorded weights, each {@code [B, h·w, T]} (one per UNet evaluation)
     * @param latentH    latent height at the UNet input (64 for 512 mel rows)
     * @param latentW    latent width at the UNet input
     * @param scale      pixels per cell
     */
    public static BufferedImage render(Collection<INDArray> recorded, int latentH, int latentW, int scale) {
        if (recorded.isEmpty()) throw new IllegalArgumentException("no attention weights were recorded for that layer");
        INDArray first = recorded.iterator().next();
        long tokens = first.size(1);
        int frames = (int) first.size(2);
        int h = latentH;
        int w = latentW;
        // the layer's resolution: the UNet halves (rounding up) at each level
        while ((long) h * w != tokens) {
            if (h == 1 && w == 1) {
                throw new IllegalArgumentException(tokens + " tokens match no level of a " + latentH + "×" + latentW
                        + " latent");
            }
            h = (h + 1) / 2;
            w = (w + 1) / 2;
        }
        double[][] cell = new double[w][frames];
        for (INDArray a : recorded) {
            // the conditional branch: the last batch row ([uncond, cond] in one batch, or cond alone)
            float[] v = a.get(org.nd4j.linalg.indexing.NDArrayIndex.point(a.size(0) - 1)).dup('c').data().asFloat();
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    for (int t = 0; t < frames; t++) cell[x][t] += v[(y * w + x) * frames + t];
        }
        double min = Double.MAX_VALUE, max = -Double.MAX_VALUE;
        for (double[] col : cell) for (double c : col) {
            min = Math.min(min, c);
            max = Math.max(max, c);
        }
        double range = max > min ? max - min : 1;
        BufferedImage img = new BufferedImage(w * scale, frames * scale, BufferedImage.TYPE_INT_RGB);
        for (int x = 0; x < w; x++)
            for (int t = 0; t < frames; t++) {
                int rgb = colour((cell[x][t] - min) / range);
                for (int dy = 0; dy < scale; dy++)
                    for (int dx = 0; dx < scale; dx++) img.setRGB(x * scale + dx, t * scale + dy, rgb);
            }
        return img;
    }

    /** Black → purple → orange → pale yellow, roughly perceptually ordered. */
    static int colour(double v) {
        double[][] stops = {{0, 0, 0}, {87, 16, 110}, {188, 55, 84}, {249, 142, 9}, {252, 255, 164}};
        double p = Math.max(0, Math.min(1, v)) * (stops.length - 1);
        int i = Math.min((int) p, stops.length - 2);
        double f = p - i;
        int r = (int) Math.round(stops[i][0] + f * (stops[i + 1][0] - stops[i][0]));
        int g = (int) Math.round(stops[i][1] + f * (stops[i + 1][1] - stops[i][1]));
        int b = (int) Math.round(stops[i][2] + f * (stops[i + 1][2] - stops[i][2]));
        return (r << 16) | (g << 8) | b;
    }
}
