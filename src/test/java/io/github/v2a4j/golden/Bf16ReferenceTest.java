package io.github.v2a4j.golden;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The committed sidecars of reference-tests/dump_bf16_reference.py, read as tolerances. */
class Bf16ReferenceTest {

    static final Path BUNDLES = Path.of("reference-tests", "bundles");

    @TempDir
    Path dir;

    @Test
    void unetSidecarCoversEveryRowOfItsBundle() {
        Path bundle = BUNDLES.resolve("unet-tiny");
        Map<String, Tolerance> tol = Bf16Reference.read(bundle);
        try (GoldenBundle b = GoldenBundle.open(bundle)) {
            assertThat(tol.keySet()).containsAll(b.order()).contains("io:out").hasSize(b.order().size() + 1);
        }
        // bf16 distances are percent-level; each row keeps its own
        assertThat(tol.get("io:out").maxRelToMax()).isBetween(1e-3, 0.1);
        assertThat(tol.get("conv_in.out").maxRelToMax()).isBetween(1e-3, 0.1);
        assertThat(tol.get("mid_block.out").maxRelToMax()).isBetween(1e-3, 0.1)
                .isNotEqualTo(tol.get("conv_in.out").maxRelToMax());
        assertThat(tol.get("io:out").reason()).startsWith("reference bfloat16 vs fp32 on this case (torch 2.");
        // the timestep embedding is fp32 in the reference's bf16 run too: the fp32 tolerance applies
        assertThat(tol.get("time_proj.out")).satisfies(t -> {
            assertThat(t.maxRelToMax()).isEqualTo(Tolerance.FP32.maxRelToMax());
            assertThat(t.reason()).contains("below the fp32 tolerance");
        });
    }

    @Test
    void cogvlmSidecarsHoldTheEmbeddingRows() {
        Map<String, Tolerance> video = Bf16Reference.read(BUNDLES.resolve("cogvlm-tiny"));
        Map<String, Tolerance> text = Bf16Reference.read(BUNDLES.resolve("cogvlm-tiny-text"));
        assertThat(video.get("io:video_embedding").maxRelToMax()).isBetween(1e-3, 0.1);
        assertThat(video.get("model.vision.out").maxRelToMax()).isBetween(1e-3, 0.1);
        assertThat(text.get("io:text_embedding").maxRelToMax()).isBetween(1e-3, 0.1);
        assertThat(text.get("model.layers.1.out.0").maxRelToMax()).isBetween(1e-3, 0.1);
        assertThat(text.get("model.in.input_ids").maxRelToMax()).isEqualTo(Tolerance.FP32.maxRelToMax());
    }

    @Test
    void vaeHasKandinskysFp16SidecarAndTheBf16Yardstick() {
        Map<String, Tolerance> fp16 = Bf16Reference.read(BUNDLES.resolve("vae-tiny"), Bf16Reference.FP16_FILE);
        assertThat(fp16.get("io:sample").maxRelToMax()).isBetween(1e-4, 0.1);
        assertThat(fp16.get("io:sample").reason()).startsWith("reference float16 vs fp32");
        Map<String, Tolerance> bf16 = Bf16Reference.read(BUNDLES.resolve("vae-tiny"));
        assertThat(bf16.get("io:sample").reason()).startsWith("reference bfloat16 vs fp32");
        // 3 fewer mantissa bits: the reference's own bf16 decode is several times further from fp32 than its fp16 one
        assertThat(bf16.get("io:sample").maxRelToMax()).isGreaterThan(3 * fp16.get("io:sample").maxRelToMax());
    }

    @Test
    void brokenSidecarsNameTheFileAndRow() throws IOException {
        String head = "{\"format\": 1, \"dtype\": \"bfloat16\", \"runtime\": {\"torch\": \"2.13.0+cpu\"}, "
                + "\"cpu\": {\"model_name\": \"x\", \"family\": \"1\"}, \"rows\": ";
        Files.writeString(dir.resolve(Bf16Reference.BF16_FILE), head + "{\"a.out\": [0.1, -0.2, 1.0]}}");
        assertThatThrownBy(() -> Bf16Reference.read(dir)).isInstanceOf(BundleException.class)
                .hasMessageContaining("bf16_reference.json: row 'a.out' has max_rel_to_max -0.2");
        Files.writeString(dir.resolve(Bf16Reference.BF16_FILE), head + "{\"a.out\": [0.1, 0.2]}}");
        assertThatThrownBy(() -> Bf16Reference.read(dir)).isInstanceOf(BundleException.class)
                .hasMessageContaining("row 'a.out' is [0.1,0.2], not [max_abs, max_rel_to_max, cosine]");
        Files.writeString(dir.resolve(Bf16Reference.BF16_FILE), head.replace("\"format\": 1", "\"format\": 2")
                + "{}}");
        assertThatThrownBy(() -> Bf16Reference.read(dir)).isInstanceOf(BundleException.class)
                .hasMessageContaining("\"format\" is 2, expected 1");
        Files.writeString(dir.resolve(Bf16Reference.BF16_FILE), head + "{\"a.out\": [0.1, 0.2, 1.0]");
        assertThatThrownBy(() -> Bf16Reference.read(dir)).isInstanceOf(BundleException.class)
                .hasMessageContaining("bf16_reference.json: broken JSON");
    }
}
