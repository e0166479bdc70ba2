package io.github.v2a4j.audio;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.v2a4j.io.WavFile;
import java.awt.image.BufferedImage;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Audio → spectrogram image against riffusion's {@code spectrogram_image_from_audio} (bundles
 * {@code audio-forward-*} from {@code reference-tests/dump_audio_forward.py}): mono, stereo (G and B channels) and a
 * two-channel input mixed down by pydub.
 */
class AudioForwardGoldenTest {

    private static WavFile input(Bundle b, SpectrogramParams p) {
        long[] shape = b.shape("pcm_in");
        int ch = (int) shape[0], n = (int) shape[1];
        short[] planar = b.i16("pcm_in"), inter = new short[ch * n];
        for (int c = 0; c < ch; c++) for (int i = 0; i < n; i++) inter[i * ch + c] = planar[c * n + i];
        return new WavFile(p.sampleRate(), ch, inter);
    }

    /** The image's pixels in the bundle's layout {@code [H, W, 3]} (np.array of the PIL image). */
    private static byte[] pixels(BufferedImage img) {
        int h = img.getHeight(), w = img.getWidth();
        byte[] out = new byte[h * w * 3];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                int rgb = img.getRGB(x, y);
                out[(y * w + x) * 3] = (byte) (rgb >> 16);
                out[(y * w + x) * 3 + 1] = (byte) (rgb >> 8);
                out[(y * w + x) * 3 + 2] = (byte) rgb;
            }
        return out;
    }

    /** {max |diff|, count of differing values}. */
    private static int[] diff(byte[] got, byte[] want) {
        assertThat(got).hasSameSizeAs(want);
        int max = 0, count = 0;
        for (int i = 0; i < got.length; i++) {
            int d = Math.abs((got[i] & 0xff) - (want[i] & 0xff));
            max = Math.max(max, d);
            if (d != 0) count++;
        }
        return new int[] {max, count};
    }

    @ParameterizedTest
    @ValueSource(strings = {"audio-forward-mono", "audio-forward-stereo", "audio-forward-downmix"})
    void melAndImageMatchRiffusion(String name) throws Exception {
        Bundle b = new Bundle(name);
        SpectrogramParams p = b.params();
        SpectrogramConverter conv = new SpectrogramConverter(p);
        WavFile wav = input(b, p);

        // mel: our STFT in double against torch's fp32 pocketfft, magnitudes and the mel sum in float
        float[][] mel = conv.melFromAudio(wav);
        long[] melShape = b.shape("mel");
        float[] want = b.f32("mel");
        assertThat(mel.length).isEqualTo((int) melShape[0]);
        int per = (int) (melShape[1] * melShape[2]);
        double maxRef = 0, maxErr = 0;
        for (int c = 0; c < mel.length; c++) {
            assertThat(mel[c]).hasSize(per);
            for (int i = 0; i < per; i++) {
                maxRef = Math.max(maxRef, Math.abs(want[c * per + i]));
                maxErr = Math.max(maxErr, Math.abs(mel[c][i] - want[c * per + i]));
            }
        }
        System.out.printf("%s: mel max|err|/max|ref| = %.2e%n", name, maxErr / maxRef);
        // measured ≤ 2.2e-7: torch's fp32 STFT of 882 points is a few float ulps of the largest value from ours
        assertThat(maxErr / maxRef).isLessThan(1e-6);

        // image from the golden mel: the quantisation alone
        float[][] goldenMel = new float[mel.length][per];
        for (int c = 0; c < mel.length; c++) System.arraycopy(want, c * per, goldenMel[c], 0, per);
        int nMels = (int) melShape[1], frames = (int) melShape[2];
        byte[] wantImg = b.u8("image");
        int[] fromGolden = diff(pixels(SpectrogramImage.fromSpectrogram(goldenMel, nMels, frames, p.powerForImage())), wantImg);
        // image from our own mel: the whole path
        int[] whole = diff(pixels(conv.imageFromAudio(wav)), wantImg);
        System.out.printf("%s: image from golden mel: max %d, %d values differ; whole path: max %d, %d of %d differ%n",
                name, fromGolden[0], fromGolden[1], whole[0], whole[1], wantImg.length);
        // Measured exact on all three bundles. numpy's float32 power may sit one ulp from ours, and astype(uint8)
        // truncates, so a value that close to an integer could move one step: if that ever shows here, it is to be
        // looked at, not tolerated.
        assertThat(fromGolden[1]).isZero();
        assertThat(whole[1]).isZero();
    }
}
