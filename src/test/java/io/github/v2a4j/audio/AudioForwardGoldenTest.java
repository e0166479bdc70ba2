package io.github.v2a4j.audio;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.image.BufferedImage;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The image quantisation of riffusion's {@code image_from_spectrogram} on its own: fed the bundle's golden mel, the image
 * must equal the bundle's. The whole audio → image path (STFT, mel, image from our own mel) is compared by
 * {@link GoldenAudioForwardValidator}, run on the same bundles in {@code GoldenAudioValidatorTest}.
 */
class AudioForwardGoldenTest {

    @ParameterizedTest
    @ValueSource(strings = {"audio-forward-mono", "audio-forward-stereo", "audio-forward-downmix"})
    void imageFromTheGoldenMelIsExact(String name) throws Exception {
        Bundle b = new Bundle(name);
        SpectrogramParams p = b.params();
        long[] shape = b.shape("mel");
        int channels = (int) shape[0], nMels = (int) shape[1], frames = (int) shape[2], per = nMels * frames;
        float[] flat = b.f32("mel");
        float[][] mel = new float[channels][per];
        for (int c = 0; c < channels; c++) System.arraycopy(flat, c * per, mel[c], 0, per);

        BufferedImage img = SpectrogramImage.fromSpectrogram(mel, nMels, frames, p.powerForImage());
        byte[] want = b.u8("image"); // [H, W, 3], np.array of the PIL image
        int differ = 0;
        for (int y = 0; y < nMels; y++)
            for (int x = 0; x < frames; x++) {
                int rgb = img.getRGB(x, y), i = (y * frames + x) * 3;
                if ((want[i] & 0xff) != ((rgb >> 16) & 0xff)) differ++;
                if ((want[i + 1] & 0xff) != ((rgb >> 8) & 0xff)) differ++;
                if ((want[i + 2] & 0xff) != (rgb & 0xff)) differ++;
            }
        // Measured exact on all three bundles. numpy's float32 power may sit one ulp from ours, and astype(uint8)
        // truncates, so a value that close to an integer could move one step: if that ever shows here, it is to be
        // looked at, not tolerated.
        assertThat(differ).as("%s: uint8 values that differ", name).isZero();
    }
}
