package io.github.v2a4j.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.v2a4j.io.Dtype;
import io.github.v2a4j.io.MapSource;
import io.github.v2a4j.io.Safetensors;
import io.github.v2a4j.io.SafetensorsWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The one path from a checkpoint to a block: scoped names, strict checking, dry runs, bf16 conversion and release. */
class BinderTest {

    @TempDir
    Path dir;

    @Test
    void scopedLookupMapsF32AndReportsEveryProblemInOneError() {
        Path file = dir.resolve("unet.safetensors");
        new SafetensorsWriter()
                .putFloat("down_blocks.0.resnets.0.conv1.weight", new float[] {1, 2, 3, 4}, 2, 2)
                .putFloat("down_blocks.0.resnets.0.conv1.bias", new float[] {5, 6}, 2)
                .putFloat("extra.weight", new float[] {0}, 1)
                .putInt("down_blocks.0.resnets.0.conv1.scale", new int[] {1, 2}, 2) // a float's byte span, not a float
                .write(file);
        try (Safetensors st = Safetensors.open(file)) {
            Binder root = Binder.load(st, "UNet");
            Binder conv = root.at("down_blocks.0").at("resnets.0").at("conv1");
            assertThat(conv.path()).isEqualTo("down_blocks.0.resnets.0.conv1");
            assertThat(conv.name("weight")).isEqualTo("down_blocks.0.resnets.0.conv1.weight");
            INDArray w = conv.linear("weight", 2, 2);
            assertThat(w.toFloatMatrix()).isEqualTo(new float[][] {{1, 2}, {3, 4}});
            assertThat(conv.get("bias", 3)).isNull();
            assertThat(conv.get("missing", 1)).isNull();
            assertThat(conv.get("scale", 2)).isNull();
            assertThatThrownBy(root::verify).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("UNet weights " + file + " do not match the model: "
                            + "1 missing (down_blocks.0.resnets.0.conv1.missing [1]); "
                            + "1 wrong shape (down_blocks.0.resnets.0.conv1.bias is [2], expected [3] (unet.safetensors)); "
                            + "1 wrong dtype (down_blocks.0.resnets.0.conv1.scale is I32, a weight must be F32, BF16, F16 "
                            + "or F64 (unet.safetensors)); "
                            + "1 unexpected (extra.weight)");
            // a part of a model: what was not asked for is not unexpected
            assertThatThrownBy(root::verifyRequested).hasMessageNotContaining("extra.weight");
        }
    }

    @Test
    void ignoredAndDeclaredTensorsCountAsUsed() {
        MapSource src = new MapSource(Map.of("table", Nd4j.zeros(4, 2), "unused", Nd4j.zeros(1)));
        Binder b = Binder.load(src, "test");
        b.declare("table", 4, 2);
        b.ignore("unused");
        b.verify();
        assertThat(b.parameters()).containsOnlyKeys("table");
    }

    @Test
    void checkReadsHeadersOnlyAndListsTheLayout() {
        Binder check = Binder.check(MapSource.empty(), "test");
        assertThat(check.at("a").linear("weight", 3, 2)).isNull();
        assertThat(check.at("a").conv("k", 4, 3, 1, 1)).isNull();
        assertThat(check.parameters()).containsOnlyKeys("a.weight", "a.k");
        assertThat(check.parameters().get("a.k")).containsExactly(4, 3, 1, 1);
        assertThatThrownBy(check::verify).hasMessageContaining("2 missing (a.weight [3, 2], a.k [4, 3, 1, 1])");
    }

    @Test
    void bf16IsConvertedPerBinderAndFreedOnClose() {
        Path file = dir.resolve("bf16.safetensors");
        ByteBuffer bits = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
        bits.putShort((short) 0x3F80).putShort((short) 0xC000); // 1.0, -2.0
        INDArray mappedF32;
        INDArray converted;
        new SafetensorsWriter().putRaw("h", Dtype.BF16, bits.array(), 2).putFloat("f", new float[] {7}, 1).write(file);
        try (Safetensors st = Safetensors.open(file)) {
            try (Binder b = Binder.load(st, "test")) {
                converted = b.get("h", 2);
                mappedF32 = b.get("f", 1);
                assertThat(converted.toFloatVector()).containsExactly(1f, -2f);
            }
            assertThat(converted.wasClosed()).isTrue();
            assertThat(mappedF32.wasClosed()).isFalse();
            assertThat(mappedF32.getFloat(0)).isEqualTo(7f);
        }
    }
}
