package io.github.v2a4j.audio;

import java.awt.image.BufferedImage;

/**
 * riffusion's {@code image_util}: spectrogram magnitudes ↔ 8-bit RGB image.
 *
 * <p>Image → spectrogram ({@code spectrogram_from_image}): flip vertically, take R (mono) or G,B (stereo),
 * {@code mel = ((255 − v)/255)^(1/power) · max_value} in float32 (numpy: float32 ops, {@code np.power} float32).
 * Spectrogram → image ({@code image_from_spectrogram}): {@code v = uint8(255 − (S/max(S))^power · 255)} (cast truncates),
 * mono written to R=G=B, stereo to (0, ch0, ch1), flipped vertically.
 *
 * <p>Spectrograms are {@code [channel][n_mels * frames]} row-major, mel 0 = lowest band = bottom image row.
 */
public final class SpectrogramImage {
    private SpectrogramImage() {}

    /** {@code spectrogram_from_image(image, power, stereo, max_value)}. */
    public static float[][] toSpectrogram(BufferedImage image, SpectrogramParams p) {
        int h = image.getHeight(), w = image.getWidth();
        int ch = p.channels();
        float[][] out = new float[ch][h * w];
        float power = (float) p.powerForImage();
        // numpy: np.power(float32 array, 1 / power) — the Python float exponent is cast to float32
        float inv = (float) (1 / p.powerForImage());
        float maxValue = (float) p.maxValue();
        float[] lut = new float[256];
        for (int v = 0; v < 256; v++) {
            float x = (255f - v) / 255f;
            lut[v] = powf(x, inv) * maxValue;
        }
        int[] row = new int[w];
        for (int y = 0; y < h; y++) {
            image.getRGB(0, y, w, 1, row, 0, w);
            int m = h - 1 - y; // flip: bottom row is mel 0
            for (int t = 0; t < w; t++) {
                int rgb = row[t];
                if (ch == 1) {
                    out[0][m * w + t] = lut[(rgb >> 16) & 0xff];
                } else {
                    out[0][m * w + t] = lut[(rgb >> 8) & 0xff];
                    out[1][m * w + t] = lut[rgb & 0xff];
                }
            }
        }
        return out;
    }

    /** float32 power as numpy computes it ({@code powf}); exact for the integer exponents riffusion uses. */
    static float powf(float x, float e) {
        if (e == 4f) {
            // numpy's float32 power calls powf; x⁴ correctly rounded equals powf's correctly rounded result
            return (float) Math.pow(x, 4);
        }
        return (float) Math.pow(x, e);
    }

    /**
     * {@code image_from_spectrogram(spectrogram, power)}: {@code spec[c]} is {@code [n_mels][frames]} row-major.
     * Returns a TYPE_INT_RGB image of height n_mels and width frames.
     */
    public static BufferedImage fromSpectrogram(float[][] spec, int nMels, int frames, double powerD) {
        if (spec.length != 1 && spec.length != 2)
            throw new IllegalArgumentException("unsupported number of channels: " + spec.length);
        float max = Float.NEGATIVE_INFINITY;
        for (float[] c : spec) for (float v : c) max = Math.max(max, v);
        // numpy: spectrogram / max_value (float32 / float32 scalar), np.power(data, 0.25) in float32, * 255, 255 - x
        float power = (float) powerD;
        BufferedImage img = new BufferedImage(frames, nMels, BufferedImage.TYPE_INT_RGB);
        int[][] q = new int[spec.length][];
        for (int c = 0; c < spec.length; c++) {
            q[c] = new int[nMels * frames];
            for (int i = 0; i < q[c].length; i++) {
                float d = spec[c][i] / max;
                d = (float) Math.pow(d, power);
                d = d * 255f;
                d = 255f - d;
                q[c][i] = (int) d & 0xff; // astype(uint8): truncation toward zero (values are in [0, 255])
            }
        }
        int[] row = new int[frames];
        for (int m = 0; m < nMels; m++) {
            int y = nMels - 1 - m;
            for (int t = 0; t < frames; t++) {
                int rgb;
                if (spec.length == 1) {
                    int v = q[0][m * frames + t];
                    rgb = (v << 16) | (v << 8) | v;
                } else {
                    rgb = (q[0][m * frames + t] << 8) | q[1][m * frames + t];
                }
                row[t] = rgb;
            }
            img.setRGB(0, y, frames, 1, row, 0, frames);
        }
        return img;
    }
}
