package io.github.v2a4j.cogvlm;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Bundle cogvlm-tiny-preprocess: {@code build_conversation_input_ids}' video transform on a 50×70 (landscape,
 * upscale, crop left round(44.5)=44) and a 260×230 (portrait, crop top round(14.5)=14) clip.
 */
class VideoPreprocessorGoldenTest {

    /**
     * 1e-6 absolute (values are O(2): ~5e-7 relative): ATen's bilinear kernel computes indices and weights exactly as we
     * do (checked one-hot per axis) but combines the four taps in an order we do not reproduce, so outputs may
     * differ in the last bit (measured max 4.8e-7).
     */
    static final double TOL_ABS = 1e-6;

    @Test
    void matchesUpstreamTransform() {
        Path b = Golden.bundle("cogvlm-tiny-preprocess");
        MapTensorSource io = MapTensorSource.read(b.resolve("io.safetensors"));
        VideoPreprocessor pre = new VideoPreprocessor(224);
        for (String c : List.of("a", "b")) {
            INDArray video = io.raw(c + ".video");
            INDArray got = pre.preprocess(video);
            Golden.Error e = Golden.compare(c + ".frames", got, io.raw(c + ".frames"));
            System.out.println(e);
            assertThat(e.maxAbs()).as(e.toString()).isLessThanOrEqualTo(TOL_ABS);

            // the same clip as an off-heap UINT8 array (the pipeline's clip), read in place
            INDArray u8 = video.castTo(org.nd4j.linalg.api.buffer.DataType.UINT8);
            assertThat(pre.preprocess(u8).data().asFloat()).isEqualTo(got.data().asFloat());
        }
    }
}
