package io.github.v2a4j.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

/** What the converter takes from io: Hugging Face folders, tensors streamed with dtype conversion, hashed writes. */
class StreamingTest {

    @TempDir
    Path dir;

    private static byte[] bf16(float... v) {
        ByteBuffer b = ByteBuffer.allocate(2 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : v) b.putShort(Dtype.floatToBf16(x));
        return b.array();
    }

    private static byte[] concat(Safetensors st, String name, Dtype to) {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        st.stream(name, to, piece -> {
            byte[] b = new byte[piece.remaining()];
            piece.get(b);
            all.writeBytes(b);
        });
        return all.toByteArray();
    }

    @Test
    void openFolderReadsTheNamedWeightsNotTheirVariants() throws Exception {
        Path k4 = Files.createDirectories(dir.resolve("unet"));
        new SafetensorsWriter().putFloat("w", new float[] {1}, 1).write(k4.resolve("diffusion_pytorch_model.safetensors"));
        new SafetensorsWriter().putFloat("w", new float[] {2}, 1).write(k4.resolve("diffusion_pytorch_model.fp16.safetensors"));
        try (Safetensors st = Safetensors.openFolder(k4, "diffusion_pytorch_model.safetensors")) {
            assertThat(st.getFloat("w")).containsExactly(1f);
        }
        // a folder whose file is named otherwise: its only file
        Path other = Files.createDirectories(dir.resolve("other"));
        new SafetensorsWriter().putFloat("v", new float[] {3}, 1).write(other.resolve("weights.safetensors"));
        try (Safetensors st = Safetensors.openFolder(other, "model.safetensors")) {
            assertThat(st.names()).containsExactly("v");
        }
        // two candidates and neither named: an error listing them
        assertThatThrownBy(() -> Safetensors.openFolder(k4, "model.safetensors"))
                .isInstanceOf(SafetensorsException.class).hasMessageStartingWith(k4.toString())
                .hasMessageContaining("diffusion_pytorch_model.fp16.safetensors");
        assertThatThrownBy(() -> Safetensors.openFolder(dir.resolve("none"), "model.safetensors"))
                .hasMessageContaining("no such directory");
    }

    @Test
    void openFolderPrefersTheIndexOfTheNamedWeights() throws Exception {
        Path cog = Files.createDirectories(dir.resolve("cog"));
        new SafetensorsWriter().putFloat("a", new float[] {1}, 1).write(cog.resolve("model-00001-of-00002.safetensors"));
        new SafetensorsWriter().putFloat("b", new float[] {2}, 1).write(cog.resolve("model-00002-of-00002.safetensors"));
        Files.writeString(cog.resolve("model.safetensors.index.json"), "{\"weight_map\": {"
                + "\"a\": \"model-00001-of-00002.safetensors\", \"b\": \"model-00002-of-00002.safetensors\"}}");
        try (Safetensors st = Safetensors.openFolder(cog, "model.safetensors")) {
            assertThat(st.names()).containsExactly("a", "b");
            assertThat(st.getFloat("b")).containsExactly(2f);
        }
    }

    @Test
    void streamCopiesTheStoredBytesOrConvertsFloatsInBoundedPieces() throws Exception {
        int n = 5_000_001; // 10 MB of bf16: more than one 8 MiB read window
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (i % 256 - 128) / 64f; // exact in bf16
        Path file = dir.resolve("big.safetensors");
        new SafetensorsWriter().putRaw("h", Dtype.BF16, bf16(v), n).putFloat("f", new float[] {1.00390625f, -3f}, 2)
                .putRaw("half", Dtype.F16, new byte[] {0x00, 0x3C, 0x00, (byte) 0xC0}, 2)
                .putLong("ids", new long[] {7}, 1).write(file);
        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            List<Integer> pieces = new ArrayList<>();
            st.stream("h", Dtype.BF16, p -> pieces.add(p.remaining()));
            assertThat(pieces).hasSizeGreaterThan(1).allSatisfy(p -> assertThat(p).isLessThanOrEqualTo(8 << 20));
            assertThat(concat(st, "h", Dtype.BF16)).isEqualTo(st.loadBytes("h"));
            ByteBuffer f32 = ByteBuffer.wrap(concat(st, "h", Dtype.F32)).order(ByteOrder.LITTLE_ENDIAN);
            assertThat(f32.remaining()).isEqualTo(4 * n);
            for (int i : new int[] {0, 1, 4_194_303, 4_194_304, n - 1}) assertThat(f32.getFloat(4 * i)).isEqualTo(v[i]);
            // f32 → bf16 rounds to nearest even: 1 + 2^-8 is a tie and goes to 1
            assertThat(concat(st, "f", Dtype.BF16)).isEqualTo(bf16(1f, -3f));
            ByteBuffer half = ByteBuffer.wrap(concat(st, "half", Dtype.F32)).order(ByteOrder.LITTLE_ENDIAN);
            assertThat(new float[] {half.getFloat(0), half.getFloat(4)}).containsExactly(1f, -2f);
            assertThatThrownBy(() -> st.stream("ids", Dtype.F32, p -> {})).isInstanceOf(SafetensorsException.class)
                    .hasMessageContaining("tensor 'ids'").hasMessageContaining("I64");
        }
    }

    @Test
    void rowsAreReadOnTheirOwnAndConverted() throws Exception {
        Path file = dir.resolve("table.safetensors");
        new SafetensorsWriter().putFloat("f", new float[] {0, 1, 2, 3, 4, 5}, 3, 2)
                .putRaw("h", Dtype.BF16, bf16(0, 1, 2, 3, 4, 5), 3, 2).write(file);
        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            for (String n : new String[] {"f", "h"}) {
                INDArray r = st.rows(n, new long[] {2, 0, 2});
                assertThat(r.shape()).containsExactly(3, 2);
                assertThat(r.toFloatMatrix()).isEqualTo(new float[][] {{4, 5}, {0, 1}, {4, 5}});
                // the interface's default (through mapped) gives the same rows
                TensorSource viaMapping = new PrefixedSource(new MapSource(Map.of(n, st.loadFloat(n))), "");
                assertThat(viaMapping.rows(n, new long[] {2, 0, 2})).isEqualTo(r);
            }
            assertThatThrownBy(() -> st.rows("f", new long[] {3})).isInstanceOf(SafetensorsException.class)
                    .hasMessageContaining("row 3 outside f [3, 2]");
        }
    }

    @Test
    void streamWriterHashesWhatItWritesInAnyOrder() throws Exception {
        Map<String, SafetensorsStreamWriter.Spec> specs = new LinkedHashMap<>();
        specs.put("a", new SafetensorsStreamWriter.Spec(Dtype.F32, 3));
        specs.put("b", new SafetensorsStreamWriter.Spec(Dtype.BF16, 2));
        for (boolean inOrder : new boolean[] {true, false}) {
            Path file = dir.resolve("h" + inOrder + ".safetensors");
            String sha;
            try (SafetensorsStreamWriter w = new SafetensorsStreamWriter(file, specs, Map.of("format", "pt"))) {
                List<String> order = new ArrayList<>(w.dataOrder());
                if (!inOrder) java.util.Collections.reverse(order);
                for (String n : order) {
                    ByteBuffer b = ByteBuffer.allocate((int) specs.get(n).bytes()).order(ByteOrder.LITTLE_ENDIAN);
                    while (b.hasRemaining()) b.put((byte) (b.position() * 7 + n.charAt(0)));
                    b.flip();
                    w.append(n, b.slice(0, 2));
                    w.append(n, b.slice(2, b.limit() - 2));
                }
                w.commit();
                sha = w.sha256();
            }
            String want = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
            assertThat(sha).as("in order: %s", inOrder).isEqualTo(want);
        }
    }

    @Test
    void floatsWriteAsF32OrRoundedBf16() {
        ByteBuffer out = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
        Dtype.F32.fromFloat(new float[] {0.5f, -1f}, 0, 2, out);
        Dtype.BF16.fromFloat(new float[] {1.01171875f, 2f}, 0, 2, out);
        assertThat(out.position()).isEqualTo(12);
        assertThat(out.getFloat(0)).isEqualTo(0.5f);
        assertThat(out.getFloat(4)).isEqualTo(-1f);
        assertThat(out.getShort(8)).isEqualTo((short) 0x3F82); // tie 1 + 3·2^-8 → even 1 + 2^-6
        assertThat(out.getShort(10)).isEqualTo((short) 0x4000);
        assertThatThrownBy(() -> Dtype.F16.fromFloat(new float[1], 0, 1, out)).hasMessageContaining("F16");
    }
}
