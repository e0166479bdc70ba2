package io.github.v2a4j.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ShardedSafetensorsTest {

    @TempDir
    Path dir;

    @BeforeEach
    void twoShards() {
        new SafetensorsWriter().metadata("format", "pt")
                .putFloat("a.weight", new float[] {1, 2}, 2).putFloat("a.bias", new float[] {3}, 1)
                .write(dir.resolve("model-00001-of-00002.safetensors"));
        new SafetensorsWriter().metadata("format", "pt")
                .putFloat("b.weight", new float[] {4, 5, 6, 7}, 2, 2).putLong("ids", new long[] {9}, 1)
                .write(dir.resolve("model-00002-of-00002.safetensors"));
    }

    private Path index(String name, String weightMap) throws IOException {
        return Files.writeString(dir.resolve(name), "{\"metadata\": {\"total_size\": 36}, \"weight_map\": {"
                + weightMap + "}}");
    }

    private static final String FULL_MAP = "\"a.weight\": \"model-00001-of-00002.safetensors\","
            + "\"a.bias\": \"model-00001-of-00002.safetensors\","
            + "\"b.weight\": \"model-00002-of-00002.safetensors\","
            + "\"ids\": \"model-00002-of-00002.safetensors\"";

    @Test
    void indexJoinsShards() throws IOException {
        Path idx = index("model.safetensors.index.json", FULL_MAP);
        try (Safetensors st = Safetensors.open(idx)) {
            assertThat(st.names()).containsExactly("a.bias", "a.weight", "b.weight", "ids");
            assertThat(st.mapped("b.weight").toFloatMatrix()).isEqualTo(new float[][] {{4, 5}, {6, 7}});
            assertThat(st.loadLong("ids")).containsExactly(9);
            assertThat(st.info("a.bias").file().getFileName().toString()).isEqualTo("model-00001-of-00002.safetensors");
            assertThat(st.metadata()).containsEntry("format", "pt");
        }
    }

    @Test
    void prefetchReadsTheNamedTensorsInTheBackgroundAndNeverThrows() throws Exception {
        Path idx = index("model.safetensors.index.json", FULL_MAP);
        Safetensors st = Safetensors.open(idx);
        long before = Prefetch.bytesRead();
        st.prefetch(java.util.List.of("a.weight", "b.weight", "no.such.tensor"));
        Prefetch.drain();
        assertThat(Prefetch.bytesRead() - before).as("a.weight 8 bytes + b.weight 16 bytes").isEqualTo(24);
        new PrefixedSource(st, "a.").prefetch(java.util.List.of("bias"));
        Prefetch.drain();
        assertThat(Prefetch.bytesRead() - before).isEqualTo(28);
        st.close();
        // a hint on a closed checkpoint is dropped quietly, and the reader thread goes on serving others
        st.prefetch(java.util.List.of("a.weight"));
        Prefetch.drain();
        assertThat(Prefetch.bytesRead() - before).isEqualTo(28);
        try (Safetensors again = Safetensors.open(idx)) {
            again.prefetch(java.util.List.of("a.bias"));
            Prefetch.drain();
            assertThat(Prefetch.bytesRead() - before).isEqualTo(32);
            assertThat(again.mapped("a.bias").getFloat(0)).isEqualTo(3f);
        }
    }

    @Test
    void directoryUsesItsIndex() throws IOException {
        // The index lists only part of the tensors: the directory must be read through it, not file by file.
        index("diffusion_pytorch_model.safetensors.index.json", "\"a.weight\": \"model-00001-of-00002.safetensors\"");
        try (Safetensors st = Safetensors.open(dir)) {
            assertThat(st.names()).containsExactly("a.weight");
        }
    }

    @Test
    void directoryWithoutIndexTakesEveryFile() {
        try (Safetensors st = Safetensors.open(dir)) {
            assertThat(st.names()).containsExactly("a.bias", "a.weight", "b.weight", "ids");
            assertThat(st.getFloat("a.weight")).containsExactly(1, 2);
        }
    }

    @Test
    void missingShardFile() throws IOException {
        Path idx = index("model.safetensors.index.json", FULL_MAP + ",\"c\": \"model-00003-of-00002.safetensors\"");
        assertThatThrownBy(() -> Safetensors.open(idx)).isInstanceOf(SafetensorsException.class)
                .hasMessageStartingWith(idx.toString())
                .hasMessageContaining("shard file 'model-00003-of-00002.safetensors' (holding 'c') does not exist");
    }

    @Test
    void tensorNotInItsShard() throws IOException {
        Path idx = index("model.safetensors.index.json", "\"b.weight\": \"model-00001-of-00002.safetensors\"");
        assertThatThrownBy(() -> Safetensors.open(idx)).isInstanceOf(SafetensorsException.class)
                .hasMessageStartingWith(idx.toString())
                .hasMessageContaining("assigns tensor 'b.weight' to model-00001-of-00002.safetensors, which does not contain it");
    }

    @Test
    void indexNotValidJson() throws IOException {
        Path idx = Files.writeString(dir.resolve("model.safetensors.index.json"), "{\"weight_map\": {\"a\": ");
        assertThatThrownBy(() -> Safetensors.open(idx)).isInstanceOf(SafetensorsException.class)
                .hasMessageStartingWith(idx.toString()).hasMessageContaining("malformed JSON index");
        Files.writeString(idx, "[]");
        assertThatThrownBy(() -> Safetensors.open(idx)).hasMessageContaining("index is not a JSON object");
        Files.writeString(idx, "{\"metadata\": {}}");
        assertThatThrownBy(() -> Safetensors.open(idx)).hasMessageContaining("index has no weight_map");
        Files.writeString(idx, "{\"weight_map\": {\"a\": 3}}");
        assertThatThrownBy(() -> Safetensors.open(idx)).hasMessageContaining("weight_map entry 'a' is not a file name");
    }

    @Test
    void duplicateTensorInIndex() throws IOException {
        Path idx = index("model.safetensors.index.json", FULL_MAP + ",\"ids\": \"model-00001-of-00002.safetensors\"");
        assertThatThrownBy(() -> Safetensors.open(idx)).isInstanceOf(SafetensorsException.class)
                .hasMessageContaining("duplicate tensor 'ids' in weight_map");
    }

    @Test
    void shardOutsideTheDirectoryIsRefused() throws IOException {
        Path idx = index("model.safetensors.index.json", "\"a\": \"../elsewhere.safetensors\"");
        assertThatThrownBy(() -> Safetensors.open(idx)).isInstanceOf(SafetensorsException.class)
                .hasMessageContaining("shard '../elsewhere.safetensors' is not a file next to the index");
    }

    @Test
    void sameTensorInTwoFilesOfADirectory() {
        new SafetensorsWriter().putFloat("ids", new float[] {1}, 1).write(dir.resolve("extra.safetensors"));
        assertThatThrownBy(() -> Safetensors.open(dir)).isInstanceOf(SafetensorsException.class)
                .hasMessageContaining("tensor 'ids' is in both extra.safetensors and model-00002-of-00002.safetensors");
    }

    @Test
    void brokenShardNamesTheShard() throws IOException {
        Files.write(dir.resolve("model-00002-of-00002.safetensors"), new byte[3]);
        Path idx = index("model.safetensors.index.json", FULL_MAP);
        assertThatThrownBy(() -> Safetensors.open(idx)).isInstanceOf(SafetensorsException.class)
                .hasMessageContaining("model-00002-of-00002.safetensors: file is 3 bytes");
    }

    @Test
    void emptyDirectory() throws IOException {
        Path empty = Files.createDirectory(dir.resolve("empty"));
        assertThatThrownBy(() -> Safetensors.open(empty)).isInstanceOf(SafetensorsException.class)
                .hasMessageContaining("no *.safetensors file and no index");
    }

    @Test
    void absentTensorNamesTheCheckpoint() throws IOException {
        Path idx = index("model.safetensors.index.json", FULL_MAP);
        try (Safetensors st = Safetensors.open(idx)) {
            assertThatThrownBy(() -> st.loadFloat("zzz")).isInstanceOf(SafetensorsException.class)
                    .hasMessageContaining(idx.toString()).hasMessageContaining("no tensor 'zzz'");
        }
    }
}
