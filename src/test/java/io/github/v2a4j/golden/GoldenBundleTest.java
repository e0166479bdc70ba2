package io.github.v2a4j.golden;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.factory.Nd4j;

class GoldenBundleTest {

    @TempDir
    Path dir;

    private Path valid() throws IOException {
        return TestBundles.write(dir.resolve("b"), "toy",
                Map.of("a.out", Nd4j.createFromArray(1f, 2f), "b.out", Nd4j.createFromArray(3f)),
                List.of("b.out", "c.out"), Map.of("c.out", "a.out"), Map.of("x", Nd4j.createFromArray(5L, 6L)));
    }

    @Test
    void readsEveryPart() throws IOException {
        try (GoldenBundle b = GoldenBundle.open(valid())) {
            assertThat(b.component()).isEqualTo("toy");
            assertThat(b.caseName()).isEqualTo("test");
            assertThat(b.config().get("in_channels").getAsInt()).isEqualTo(4);
            assertThat(b.order()).containsExactly("b.out", "c.out", "a.out");
            assertThat(b.canonical("c.out")).isEqualTo("a.out");
            assertThat(b.activation("c.out").toFloatVector()).containsExactly(1f, 2f);
            assertThat(b.hasActivation("c.out")).isTrue();
            assertThat(b.hasActivation("z.out")).isFalse();
            assertThat(b.io().loadLong("x")).containsExactly(5, 6);
            assertThat(b.weights().getFloat("conv.weight")).containsExactly(1f, 2f);
            assertThat(b.toleranceHints().isJsonNull()).isTrue();
        }
    }

    @Test
    void optionalPartsMayBeAbsent() throws IOException {
        Path b = valid();
        Files.delete(b.resolve("config.json"));
        Files.delete(b.resolve("weights.safetensors"));
        try (GoldenBundle g = GoldenBundle.open(b)) {
            assertThat(g.config().size()).isZero();
            assertThatThrownBy(g::weights).isInstanceOf(BundleException.class)
                    .hasMessageContaining("bundle has no weights.safetensors");
        }
    }

    @Test
    void missingDirectoryOrFile() throws IOException {
        assertThatThrownBy(() -> GoldenBundle.open(dir.resolve("nope"))).isInstanceOf(BundleException.class)
                .hasMessageContaining("nope: no such bundle directory");
        Path b = valid();
        assertThatThrownBy(() -> GoldenBundle.open(b.resolve("manifest.json"))).isInstanceOf(BundleException.class)
                .hasMessageContaining("not a directory");
        Files.delete(b.resolve("io.safetensors"));
        assertThatThrownBy(() -> GoldenBundle.open(b)).isInstanceOf(BundleException.class)
                .hasMessageContaining("bundle has no io.safetensors");
        Files.delete(b.resolve("manifest.json"));
        assertThatThrownBy(() -> GoldenBundle.open(b)).hasMessageContaining("bundle has no manifest.json");
    }

    @Test
    void brokenJson() throws IOException {
        Path b = valid();
        Files.writeString(b.resolve("manifest.json"), "{\"component\": \"toy\",");
        assertThatThrownBy(() -> GoldenBundle.open(b)).isInstanceOf(BundleException.class)
                .hasMessageContaining("manifest.json: broken JSON").message().doesNotContain("\n");
        Files.writeString(b.resolve("manifest.json"), "[1]");
        assertThatThrownBy(() -> GoldenBundle.open(b)).hasMessageContaining("manifest.json: not a JSON object");
        Files.writeString(b.resolve("manifest.json"), "{\"case\": \"x\"}");
        assertThatThrownBy(() -> GoldenBundle.open(b)).hasMessageContaining("manifest.json: no \"component\"");
        Files.writeString(b.resolve("manifest.json"), "{\"component\": \"toy\"}");
        Files.writeString(b.resolve("config.json"), "{in_channels: 4}");
        assertThatThrownBy(() -> GoldenBundle.open(b)).hasMessageContaining("config.json: broken JSON");
    }

    @Test
    void brokenSafetensorsNamesTheFile() throws IOException {
        Path b = valid();
        Files.write(b.resolve("activations.safetensors"), new byte[] {1, 2, 3});
        assertThatThrownBy(() -> GoldenBundle.open(b)).isInstanceOf(BundleException.class)
                .hasMessageContaining("activations.safetensors: file is 3 bytes");
    }

    @Test
    void inconsistentManifest() throws IOException {
        Path b = valid();
        Files.writeString(b.resolve("manifest.json"), "{\"component\": \"toy\", \"aliases\": {\"x\": \"gone\"}}");
        assertThatThrownBy(() -> GoldenBundle.open(b)).isInstanceOf(BundleException.class)
                .hasMessageContaining("alias 'x' points to 'gone', which activations.safetensors does not hold");
        Files.writeString(b.resolve("manifest.json"), "{\"component\": \"toy\", \"order\": [\"a.out\", \"q.out\"]}");
        assertThatThrownBy(() -> GoldenBundle.open(b)).isInstanceOf(BundleException.class)
                .hasMessageContaining("\"order\" lists 'q.out', which is neither in activations.safetensors nor an alias");
        Files.writeString(b.resolve("manifest.json"), "{\"component\": 3}");
        assertThatThrownBy(() -> GoldenBundle.open(b)).hasMessageContaining("\"component\" is not a string");
    }

    /** A golden test whose committed bundle is missing fails instead of being skipped. */
    @Test
    void aMissingCommittedBundleFailsTheTest() {
        assertThatThrownBy(() -> TestBundles.committed("no-such-bundle"))
                .isInstanceOf(AssertionError.class).hasMessageContaining("no-such-bundle is missing");
        assertThat(TestBundles.committed("pndm")).isDirectory();
    }
}
