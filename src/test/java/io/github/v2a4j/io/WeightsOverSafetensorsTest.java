package io.github.v2a4j.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.v2a4j.nn.Weights;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The path every model takes: Weights lookups over a real safetensors checkpoint. */
class WeightsOverSafetensorsTest {

    @TempDir
    Path dir;

    @Test
    void scopedLookupMapsAndReportsProblems() {
        Path file = dir.resolve("unet.safetensors");
        new SafetensorsWriter()
                .putFloat("down_blocks.0.resnets.0.conv1.weight", new float[] {1, 2, 3, 4}, 2, 2)
                .putFloat("down_blocks.0.resnets.0.conv1.bias", new float[] {5, 6}, 2)
                .putFloat("extra.weight", new float[] {0}, 1)
                .write(file);
        try (Safetensors st = Safetensors.open(file)) {
            Weights w = Weights.of(st, "");
            Weights conv = w.at("down_blocks.0").at("resnets.0").at("conv1");
            assertThat(conv.get("weight", 2, 2).toFloatMatrix()).isEqualTo(new float[][] {{1, 2}, {3, 4}});
            conv.get("bias", 3);
            conv.get("missing", 1);
            assertThatThrownBy(() -> w.verify(true)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("down_blocks.0.resnets.0.conv1.missing [1]")
                    .hasMessageContaining("down_blocks.0.resnets.0.conv1.bias is [2], expected [3]")
                    .hasMessageContaining("1 unexpected (extra.weight)");
        }
    }
}
