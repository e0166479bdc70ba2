package io.github.v2a4j.vae;

import java.awt.image.BufferedImage;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * diffusers 0.31 {@code VaeImageProcessor.postprocess(image, output_type="pil", do_denormalize=[True])} as K4 uses
 * it on the decoded spectrogram: {@code clamp(x/2 + 0.5, 0, 1)}, channels last, then {@code numpy_to_pil}'s
 * {@code (x·255).round().astype(uint8)} (fp32 multiply, numpy round = half to even). K4 then takes the PIL image as
 * {@code np.array(image)}: HWC RGB uint8.
 */
public final class VaeImageProcessor {
    private VaeImageProcessor() {}

    /** An RGB image as interleaved HWC bytes ({@code 0..255} stored in Java's signed byte). */
    public record Rgb(int height, int width, byte[] hwc) {
        public int r(int y, int x) {
            return hwc[(y * width + x) * 3] & 0xff;
        }

        public BufferedImage toBufferedImage() {
            BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < height; y++) {
                for (int x = 0; x < width; x++) {
                    int i = (y * width + x) * 3;
                    img.setRGB(x, y, (hwc[i] & 0xff) << 16 | (hwc[i + 1] & 0xff) << 8 | (hwc[i + 2] & 0xff));
                }
            }
            return img;
        }
    }

    /** {@code postprocess(..., output_type="np")} for one image: {@code [3, H, W]} or {@code [1, 3, H, W]} → HWC floats in [0, 1]. */
    public static float[] denormalizeToHwc(INDArray image) {
        INDArray chw = chw(image);
        int c = (int) chw.size(0), h = (int) chw.size(1), w = (int) chw.size(2);
        float[] src = chw.castTo(DataType.FLOAT).dup('c').data().asFloat();
        float[] out = new float[src.length];
        int plane = h * w;
        for (int ch = 0; ch < c; ch++) {
            for (int p = 0; p < plane; p++) {
                float v = src[ch * plane + p] / 2f + 0.5f;
                out[p * c + ch] = Math.min(Math.max(v, 0f), 1f);
            }
        }
        return out;
    }

    /** {@code postprocess(..., output_type="pil")} for one 3-channel image, as {@code np.array(pil_image)}. */
    public static Rgb postprocess(INDArray image) {
        INDArray chw = chw(image);
        if (chw.size(0) != 3) throw new IllegalArgumentException("postprocess: expected 3 channels, got " + chw.size(0));
        float[] hwc = denormalizeToHwc(chw);
        byte[] bytes = new byte[hwc.length];
        for (int i = 0; i < hwc.length; i++) bytes[i] = (byte) (int) Math.rint(hwc[i] * 255f);
        return new Rgb((int) chw.size(1), (int) chw.size(2), bytes);
    }

    private static INDArray chw(INDArray image) {
        if (image.rank() == 4) {
            if (image.size(0) != 1) throw new IllegalArgumentException("postprocess: one image at a time, got batch " + image.size(0));
            return image.slice(0);
        }
        if (image.rank() != 3) throw new IllegalArgumentException("postprocess: expected [3,H,W] or [1,3,H,W]");
        return image;
    }
}
