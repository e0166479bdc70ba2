package io.github.v2a4j.convert;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.v2a4j.cogvlm.CogVlmConfig;
import io.github.v2a4j.cogvlm.CogVlmEncoder;
import io.github.v2a4j.unet.UNet;
import io.github.v2a4j.unet.UNetConfig;
import io.github.v2a4j.vae.VaeConfig;
import io.github.v2a4j.vae.VaeDecoder;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The two lists of what a model reads agree at the published configs: the converter's manifests (written from the
 * upstream checkpoints' names) and the tensors the models ask for when they are built (names and shapes).
 */
class ManifestsMatchModelsTest {

    /** The manifest's kept tensors at its published shapes, sorted by name. */
    static Map<String, List<Long>> kept(String manifest) {
        Map<String, List<Long>> out = new TreeMap<>();
        for (ExpectedTensors.Entry e : ExpectedTensors.load(manifest).entries()) {
            if (e.keep()) out.put(e.name(), Arrays.stream(e.publishedShape()).boxed().toList());
        }
        return out;
    }

    static Map<String, List<Long>> asked(Map<String, long[]> parameters) {
        Map<String, List<Long>> out = new TreeMap<>();
        parameters.forEach((n, s) -> out.put(n, Arrays.stream(s).boxed().toList()));
        return out;
    }

    @Test
    void unet() {
        assertThat(asked(UNet.parameterShapes(UNetConfig.k4()))).isEqualTo(kept(ExpectedTensors.UNET)).hasSize(846);
    }

    @Test
    void vaeDecoder() {
        assertThat(asked(VaeDecoder.parameterShapes(VaeConfig.sd1()))).isEqualTo(kept(ExpectedTensors.VAE)).hasSize(140);
    }

    @Test
    void cogvlm() {
        assertThat(asked(CogVlmEncoder.parameterShapes(CogVlmConfig.real())))
                .isEqualTo(kept(ExpectedTensors.COGVLM)).hasSize(1019);
    }
}
