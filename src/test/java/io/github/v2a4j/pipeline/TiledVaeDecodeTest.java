package io.github.v2a4j.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.v2a4j.diffusion.DenoiseLoop;
import io.github.v2a4j.io.Safetensors;
import io.github.v2a4j.io.TensorSource;
import io.github.v2a4j.nn.Trace;
import io.github.v2a4j.synthetic.DemoModel;
import io.github.v2a4j.vae.VaeConfig;
import io.github.v2a4j.vae.VaeDecoder;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/** The demo VAE decoding a wide latent in tiles: one tile is the plain decode, more blend linearly where they meet. */
class TiledVaeDecodeTest {

    @TempDir
    Path dir;

    static float[] bits(INDArray a) {
        return a.dup('c').data().asFloat();
    }

    static INDArray cols(INDArray x, long from, long to) {
        return x.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(from, to));
    }

    @Test
    void oneTileIsThePlainDecodeAndMoreBlendLinearlyInTheOverlaps() throws Exception {
        DemoModel.write(dir);
        try (TensorSource w = Safetensors.open(dir.resolve("vae"))) {
            VaeDecoder vae = new VaeDecoder(VaeConfig.read(dir.resolve("vae/config.json")), w);
            int f = vae.config().scaleFactor();
            INDArray narrow = DenoiseLoop.randomLatents(3, 1, 4, 4, 20);
            assertThat(bits(TiledVaeDecode.decode(vae, narrow, 20, 6)))
                    .containsExactly(bits(vae.decode(narrow, Trace.OFF)));

            INDArray wide = DenoiseLoop.randomLatents(4, 1, 4, 4, 50);
            LatentWindows tiles = LatentWindows.plan(50, 20, 5); // [0, 20), [15, 35), [30, 50)
            assertThat(tiles.count()).isEqualTo(3);
            INDArray image = TiledVaeDecode.decode(vae, wide, 20, 5);
            assertThat(image.shape()).containsExactly(1, 3, 4L * f, 50L * f);
            INDArray[] own = new INDArray[3];
            for (int k = 0; k < 3; k++) own[k] = vae.decode(cols(wide, tiles.start(k), tiles.end(k)).dup('c'), Trace.OFF);
            // columns one tile covers are that tile's decode exactly
            assertThat(bits(cols(image, 0, 15L * f))).containsExactly(bits(cols(own[0], 0, 15L * f)));
            assertThat(bits(cols(image, 20L * f, 30L * f))).containsExactly(bits(cols(own[1], 5L * f, 15L * f)));
            assertThat(bits(cols(image, 35L * f, 50L * f))).containsExactly(bits(cols(own[2], 5L * f, 20L * f)));
            // in an overlap: previous + r·(next − previous), r rising from 0 to 1 across it
            long n = 5L * f;
            for (long x = 0; x < n; x++) {
                double r = (x + 0.5) / n;
                for (int c = 0; c < 3; c++) {
                    for (int y = 0; y < 4 * f; y += 7) {
                        double prev = own[0].getDouble(0, c, y, 15L * f + x);
                        double next = own[1].getDouble(0, c, y, x);
                        assertThat(image.getDouble(0, c, y, 15L * f + x))
                                .isCloseTo(prev + r * (next - prev), org.assertj.core.data.Offset.offset(1e-6));
                    }
                }
            }
        }
    }
}
