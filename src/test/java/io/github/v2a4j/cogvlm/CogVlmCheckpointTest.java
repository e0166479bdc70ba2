package io.github.v2a4j.cogvlm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.v2a4j.io.CacheDir;
import io.github.v2a4j.io.Dtype;
import io.github.v2a4j.io.Safetensors;
import io.github.v2a4j.io.SafetensorsWriter;
import io.github.v2a4j.io.WeightsCheck;
import io.github.v2a4j.nn.Trace;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@link CogVlmEncoder#open} on model folders read by the project's safetensors reader: the tiny golden weights as
 * F32 and re-written as BF16 (the real checkpoint's dtype: converted per block, embedding rows read from the file),
 * which must give identical results to F32 weights holding the same bf16-rounded values.
 */
class CogVlmCheckpointTest {

    @TempDir
    Path tmp;

    @Test
    void bf16FolderMatchesF32FolderOfTheSameValues() throws Exception {
        Path b = Golden.bundle("cogvlm-tiny");
        Path f32 = Files.createDirectories(tmp.resolve("f32"));
        Path bf16 = Files.createDirectories(tmp.resolve("bf16"));
        SafetensorsWriter w32 = new SafetensorsWriter();
        SafetensorsWriter w16 = new SafetensorsWriter();
        try (Safetensors src = Safetensors.open(b.resolve("weights.safetensors"))) {
            for (String n : src.names()) {
                INDArray a = src.loadFloat(n);
                INDArray rounded = a.castTo(DataType.BFLOAT16).castTo(DataType.FLOAT);
                w32.put(n, rounded);
                float[] f = rounded.dup('c').data().asFloat();
                ByteBuffer bits = ByteBuffer.allocate(2 * f.length).order(ByteOrder.LITTLE_ENDIAN);
                for (float v : f) bits.putShort((short) (Float.floatToRawIntBits(v) >>> 16));
                w16.putRaw(n, Dtype.BF16, bits.array(), a.shape());
            }
        }
        w32.write(f32.resolve("model.safetensors"));
        w16.write(bf16.resolve("model.safetensors"));
        Files.copy(b.resolve("config.json"), f32.resolve("config.json"));
        Files.copy(b.resolve("config.json"), bf16.resolve("config.json"));

        CogVlmEncoder e32 = CogVlmEncoder.open(f32, 1);
        CogVlmEncoder e16 = CogVlmEncoder.open(bf16, 1);
        int[] text = {17, 203, 5, 88};
        assertThat(e16.textEmbedding(text, Trace.OFF).data().asFloat())
                .containsExactly(e32.textEmbedding(text, Trace.OFF).data().asFloat());
        assertThat(WeightsCheck.fingerprint(f32, null)).isNotEqualTo(WeightsCheck.fingerprint(bf16, null));

        INDArray u = e16.unconditionalVideoEmbedding(1, 40, 64);
        try (var files = Files.list(CacheDir.besideModel(bf16))) {
            assertThat(files.filter(p -> p.getFileName().toString().startsWith("uncond-video-")).count()).isEqualTo(1);
        }
        assertThat(u.shape()).containsExactly(1, 64);
        e32.weights().close();
        e16.weights().close();
    }

    @Test
    void openRejectsAFolderThatDoesNotMatchItsConfig() throws Exception {
        Path b = Golden.bundle("cogvlm-tiny");
        Path dir = Files.createDirectories(tmp.resolve("bad"));
        Files.copy(b.resolve("weights.safetensors"), dir.resolve("model.safetensors"));
        Files.writeString(dir.resolve("config.json"), Files.readString(b.resolve("config.json")).replace("\"hidden_size\": 64", "\"hidden_size\": 32"));
        assertThatThrownBy(() -> CogVlmEncoder.open(dir, 1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(dir.toString()).hasMessageContaining("wrong shape");
    }
}
