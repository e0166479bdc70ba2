package io.github.v2a4j.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class SafetensorsTest {

    @TempDir
    Path dir;

    @Test
    void everyDtypeRoundTrips() throws IOException {
        INDArray f32 = Nd4j.linspace(DataType.FLOAT, -3, 0.25, 24).reshape(2, 3, 4);
        // Expected values of the narrow float types come from their bit patterns, not from our converter.
        short[] f16Bits = {0x3C00, (short) 0xC000, 0x7BFF, 0x0001, 0x7C00, 0x0000};
        float[] f16Want = {1f, -2f, 65504f, 0x1p-24f, Float.POSITIVE_INFINITY, 0f};
        short[] bf16Bits = {0x3F80, (short) 0xC040, 0x4049, 0x0000};
        float[] bf16Want = {1f, -3f, 3.140625f, 0f};
        long[] i64 = {Long.MIN_VALUE, -1, 0, 1L << 40, Long.MAX_VALUE, 7};
        int[] i32 = {Integer.MIN_VALUE, -5, 0, 123456, Integer.MAX_VALUE, 1};
        short[] i16 = {-32768, -1, 0, 1, 32767, 12};
        byte[] i8 = {-128, -1, 0, 1, 127, 5};
        byte[] u8 = {0, 1, 127, (byte) 128, (byte) 255, 42};
        byte[] bool = {0, 1, 0, 1, 1, 0};
        double[] f64 = {Math.PI, -1e300, 0, 1.5, -0.0, 2};

        Path file = dir.resolve("all.safetensors");
        new SafetensorsWriter()
                .metadata("format", "pt")
                .put("f32", f32)
                .put("f64", Nd4j.createFromArray(f64).reshape(2, 3))
                .putRaw("f16", Dtype.F16, le(f16Bits), 6)
                .putRaw("bf16", Dtype.BF16, le(bf16Bits), 2, 2)
                .putLong("i64", i64, 6)
                .putInt("i32", i32, 3, 2)
                .putRaw("i16", Dtype.I16, le(i16), 6)
                .putRaw("i8", Dtype.I8, i8, 6)
                .putRaw("u8", Dtype.U8, u8, 1, 6)
                .putRaw("bool", Dtype.BOOL, bool, 6)
                .write(file);

        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            assertThat(st.names()).containsExactly("bf16", "bool", "f16", "f32", "f64", "i16", "i32", "i64", "i8", "u8");
            assertThat(st.metadata()).containsExactly(Map.entry("format", "pt"));
            assertThat(st.warnings()).isEmpty();

            assertThat(st.mapped("f32")).isEqualTo(f32);
            assertThat(st.loadFloat("f32")).isEqualTo(f32);
            assertThat(st.getFloat("f32")).containsExactly(f32.data().asFloat());
            assertThat(st.info("f32").shape()).containsExactly(2, 3, 4);

            assertThat(st.getFloat("f64")).containsExactly(toFloat(f64));
            assertThat(st.loadFloat("f64").shape()).containsExactly(2, 3);
            assertThat(st.getFloat("f16")).containsExactly(f16Want);
            assertThat(st.getFloat("bf16")).containsExactly(bf16Want);
            assertThat(st.loadFloat("bf16").data().asFloat()).containsExactly(bf16Want);
            assertThat(st.mapped("bf16").shape()).containsExactly(2, 2);

            assertThat(st.loadLong("i64")).containsExactly(i64);
            assertThat(st.loadInt("i32")).containsExactly(i32);
            assertThat(st.loadLong("i16")).containsExactly(-32768, -1, 0, 1, 32767, 12);
            assertThat(st.loadLong("i8")).containsExactly(-128, -1, 0, 1, 127, 5);
            assertThat(st.loadInt("u8")).containsExactly(0, 1, 127, 128, 255, 42);
            assertThat(st.loadBytes("u8")).containsExactly(u8);
            assertThat(st.loadLong("bool")).containsExactly(0, 1, 0, 1, 1, 0);
            assertThat(st.getFloat("u8")).containsExactly(0, 1, 127, 128, 255, 42);
            assertThat(st.getFloat("i32")).containsExactly(toFloat(i32));
            assertThat(st.getFloat("bool")).containsExactly(0, 1, 0, 1, 1, 0);
            assertThat(st.dtype("i16")).isEqualTo(Dtype.I16);
        }
    }

    @Test
    void accessorsRefuseWrongUse() throws IOException {
        Path file = dir.resolve("ids.safetensors");
        new SafetensorsWriter().putLong("big", new long[] {1L << 40}, 1).putFloat("x", new float[] {1}, 1).write(file);
        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            assertThatThrownBy(() -> st.loadInt("big")).isInstanceOf(SafetensorsException.class)
                    .hasMessageContaining("'big'").hasMessageContaining("does not fit in an int");
            assertThatThrownBy(() -> st.loadLong("x")).isInstanceOf(SafetensorsException.class)
                    .hasMessageContaining("'x'").hasMessageContaining("not an integer tensor");
            assertThatThrownBy(() -> st.info("nope")).isInstanceOf(SafetensorsException.class)
                    .hasMessageContaining(file.toString()).hasMessageContaining("no tensor 'nope'");
        }
    }

    @Test
    void f32IsMappedZeroCopyReadOnly() throws IOException {
        Path file = dir.resolve("w.safetensors");
        INDArray w = Nd4j.rand(DataType.FLOAT, 64, 32);
        new SafetensorsWriter().put("w", w).putRaw("pad", Dtype.U8, new byte[3], 3).write(file);
        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            INDArray m = st.mapped("w");
            long address = m.data().addressPointer().address();
            assertThat(m).isEqualTo(w);
            assertThat(mappingOf(address, file)).as("/proc/self/maps line holding the array").isNotNull()
                    .satisfies(line -> assertThat(line.split("\\s+")[1]).as("permissions").startsWith("r--"));
            // A copy must not live in the file mapping.
            assertThat(mappingOf(st.loadFloat("w").data().addressPointer().address(), file)).isNull();
        }
    }

    @Test
    void mappedArrayOutlivesCloseAndGc() throws IOException {
        Path file = dir.resolve("gc.safetensors");
        INDArray w = Nd4j.rand(DataType.FLOAT, 256, 256);
        new SafetensorsWriter().put("w", w).write(file);
        INDArray m;
        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            m = st.mapped("w");
        }
        for (int i = 0; i < 3; i++) {
            System.gc();
            Nd4j.rand(DataType.FLOAT, 256, 256).mmul(m); // allocation pressure between collections
        }
        assertThat(m).isEqualTo(w);
        assertThat(m.mmul(Nd4j.eye(256).castTo(DataType.FLOAT))).isEqualTo(w);
    }

    @Test
    void scalarsAndEmptyTensors() throws IOException {
        Path file = dir.resolve("edge.safetensors");
        new SafetensorsWriter()
                .put("scalar", Nd4j.scalar(2.5f))
                .putFloat("empty", new float[0], 3, 0)
                .putLong("noids", new long[0], 0)
                .write(file);
        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            assertThat(st.info("scalar").shape()).isEmpty();
            assertThat(st.mapped("scalar").getFloat(0)).isEqualTo(2.5f);
            assertThat(st.loadFloat("scalar").getFloat(0)).isEqualTo(2.5f);
            assertThat(st.mapped("empty").shape()).containsExactly(3, 0);
            assertThat(st.loadFloat("empty").isEmpty()).isTrue();
            assertThat(st.loadLong("noids")).isEmpty();
        }
    }

    /** A foreign writer may put F32 data at an odd offset; it must still read correctly (as a copy). */
    @Test
    void unalignedF32IsCopied() throws IOException {
        ByteBuffer data = ByteBuffer.allocate(9).order(ByteOrder.LITTLE_ENDIAN);
        data.put((byte) 7).putFloat(1.5f).putFloat(-2f);
        String h = "{\"b\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
                + "\"f\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[1,9]}}";
        Path file = StFiles.raw(dir.resolve("odd.safetensors"), h + " ".repeat(8 - h.length() % 8), data.array());
        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            assertThat(st.mapped("f").toFloatVector()).containsExactly(1.5f, -2f);
        }
    }

    /** A sparse file stands in for a real 2.4 GB checkpoint: nothing is read, only the refusal is checked. */
    @Test
    void tensorAbove2GbIsRefusedByMappedOnly() throws IOException {
        long n = 600_000_000L;
        String h = "{\"big\":{\"dtype\":\"F32\",\"shape\":[" + n + "],\"data_offsets\":[0," + 4 * n + "]}}";
        h += " ".repeat(7 - (h.length() + 7) % 8);
        Path file = StFiles.raw(dir.resolve("big.safetensors"), h, new byte[0]);
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(8 + h.length() + 4 * n);
        }
        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            assertThatThrownBy(() -> st.mapped("big")).isInstanceOf(SafetensorsException.class)
                    .hasMessageContaining("'big'").hasMessageContaining("2 GB").hasMessageContaining("loadFloat");
            assertThatThrownBy(() -> st.mappedBytes("big")).isInstanceOf(SafetensorsException.class)
                    .hasMessageContaining("2 GB");
        }
    }

    /** Tensors larger than the 8 MB read window and the 16 MB write chunk: the window arithmetic must line up. */
    @Test
    void largeTensorsCrossWindowBoundaries() throws IOException {
        int n = 5_000_003; // 20 MB of F32, an odd count so the last window is partial
        float[] values = new float[n];
        for (int i = 0; i < n; i++) values[i] = i;
        INDArray f32 = Nd4j.createFromArray(values);
        short[] bf16 = new short[n];
        for (int i = 0; i < n; i++) bf16[i] = (short) (0x3F80 + (i % 128)); // 1.0 .. 1.9921875
        Path file = dir.resolve("large.safetensors");
        new SafetensorsWriter().put("f", f32).putRaw("h", Dtype.BF16, le(bf16), n).write(file);
        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            float[] mapped = st.mapped("f").data().asFloat();
            float[] loaded = st.loadFloat("f").data().asFloat();
            float[] got = st.getFloat("f");
            for (int i : new int[] {0, 1, 2_097_151, 2_097_152, 2_097_153, 4_194_304, n - 1}) {
                assertThat(mapped[i]).as("mapped[%d]", i).isEqualTo((float) i);
                assertThat(loaded[i]).as("loadFloat[%d]", i).isEqualTo((float) i);
                assertThat(got[i]).as("getFloat[%d]", i).isEqualTo((float) i);
            }
            assertThat(loaded).isEqualTo(mapped);
            float[] h = st.loadFloat("h").data().asFloat();
            for (int i = 0; i < n; i += 999_983) assertThat(h[i]).isEqualTo(1f + (i % 128) / 128f);
            assertThat(h[n - 1]).isEqualTo(1f + ((n - 1) % 128) / 128f);
        }
    }

    /**
     * loadFloat of a 2.4 GB tensor: positions past 2^31 in the file and in the array. A sparse file with marked
     * values near the end; needs 2.4 GB of memory, hence slow.
     */
    @Test
    @org.junit.jupiter.api.Tag("slow")
    void loadFloatReadsTensorsAbove2GbInWindows() throws IOException {
        long n = 600_000_000L;
        String h = "{\"big\":{\"dtype\":\"F32\",\"shape\":[" + n + "],\"data_offsets\":[0," + 4 * n + "]}}";
        h += " ".repeat(7 - (h.length() + 7) % 8);
        Path file = StFiles.raw(dir.resolve("big.safetensors"), h, new byte[0]);
        long dataStart = 8 + h.length();
        long[] marks = {n - 1, n - 2, 536_870_912L, 536_870_911L, 0};
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(dataStart + 4 * n);
            for (long i : marks) {
                raf.seek(dataStart + 4 * i);
                raf.writeInt(Integer.reverseBytes(Float.floatToIntBits(i % 1000 + 0.5f)));
            }
        }
        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            INDArray a = st.loadFloat("big");
            for (long i : marks) assertThat(a.getFloat(i)).as("element %d", i).isEqualTo(i % 1000 + 0.5f);
            assertThat(a.getFloat(n - 3)).isZero();

            // And the writer's windows over the same 2.4 GB array, checked with plain file reads.
            Path copy = dir.resolve("copy.safetensors");
            new SafetensorsWriter().put("big", a).write(copy);
            long copyStart;
            try (SafetensorsFile c = SafetensorsFile.open(copy)) {
                copyStart = c.dataStart();
            }
            try (RandomAccessFile raf = new RandomAccessFile(copy.toFile(), "r")) {
                for (long i : marks) {
                    raf.seek(copyStart + 4 * i);
                    assertThat(Float.intBitsToFloat(Integer.reverseBytes(raf.readInt()))).as("written element %d", i)
                            .isEqualTo(i % 1000 + 0.5f);
                }
            }
        }
    }

    @Test
    void writerIsDeterministicPaddedAndSorted() throws IOException {
        Path a = dir.resolve("a.safetensors");
        Path b = dir.resolve("b.safetensors");
        for (Path p : List.of(a, b)) {
            new SafetensorsWriter().metadata("z", "1").metadata("a", "=<>")
                    .putRaw("zz", Dtype.U8, new byte[] {1, 2, 3}, 3)
                    .putFloat("b", new float[] {1, 2}, 2)
                    .putLong("a", new long[] {5}, 1)
                    .write(p);
        }
        byte[] bytes = Files.readAllBytes(a);
        assertThat(bytes).isEqualTo(Files.readAllBytes(b));
        long n = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertThat((8 + n) % 8).isZero();
        String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
        assertThat(header).startsWith("{\"__metadata__\":{\"a\":\"=<>\",\"z\":\"1\"},\"a\":");
        assertThat(header.indexOf("\"b\":")).isLessThan(header.indexOf("\"zz\":"));
        assertThat(header.stripTrailing()).endsWith("}");
        // Data ordered by element size: the I64 first, then the F32, then U8; no gaps.
        assertThat(header).contains("\"a\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}");
        assertThat(header).contains("\"data_offsets\":[8,16]");
        assertThat(header).contains("\"data_offsets\":[16,19]");
        assertThat(listDir()).containsExactlyInAnyOrder("a.safetensors", "b.safetensors");
        assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(a)))
                .isEqualTo("rw-r--r--");
    }

    @Test
    void failedWriteLeavesTargetUntouchedAndNoTempFile() throws IOException {
        Path file = dir.resolve("keep.safetensors");
        Files.writeString(file, "old");
        try (SafetensorsStreamWriter w = new SafetensorsStreamWriter(file,
                Map.of("x", new SafetensorsStreamWriter.Spec(Dtype.F32, 2)), Map.of())) {
            w.append("x", ByteBuffer.allocate(4));
            assertThatThrownBy(w::commit).isInstanceOf(IllegalStateException.class).hasMessageContaining("'x'");
        }
        assertThat(Files.readString(file)).isEqualTo("old");
        assertThat(listDir()).containsExactly("keep.safetensors");
    }

    @Test
    void streamingWriterAcceptsPiecesInAnyOrder() throws IOException {
        Path file = dir.resolve("stream.safetensors");
        try (SafetensorsStreamWriter w = new SafetensorsStreamWriter(file, Map.of(
                "a", new SafetensorsStreamWriter.Spec(Dtype.F32, 2, 2),
                "b", new SafetensorsStreamWriter.Spec(Dtype.I64, 1)), Map.of("k", "v"))) {
            ByteBuffer a = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
            a.putFloat(1).putFloat(2).putFloat(3).putFloat(4).flip();
            w.append("a", a.slice(0, 8));
            w.write("b", Nd4j.createFromArray(9L));
            w.append("a", a.slice(8, 8));
            w.commit();
        }
        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            assertThat(st.getFloat("a")).containsExactly(1, 2, 3, 4);
            assertThat(st.loadLong("b")).containsExactly(9);
            assertThat(st.metadata()).containsEntry("k", "v");
        }
    }

    @Test
    void viewsAndFortranOrderAreWrittenInLogicalOrder() throws IOException {
        INDArray base = Nd4j.arange(12).castTo(DataType.FLOAT).reshape(3, 4);
        INDArray view = base.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(1, 3),
                org.nd4j.linalg.indexing.NDArrayIndex.all());
        INDArray f = base.dup('f');
        Path file = dir.resolve("views.safetensors");
        new SafetensorsWriter().put("view", view).put("f", f).put("t", base.transpose()).write(file);
        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            assertThat(st.loadFloat("view")).isEqualTo(view);
            assertThat(st.loadFloat("f")).isEqualTo(base);
            assertThat(st.loadFloat("t")).isEqualTo(base.transpose());
        }
    }

    @Test
    void openDispatchesOnPathKind() throws IOException {
        Path file = dir.resolve("one.safetensors");
        new SafetensorsWriter().putFloat("x", new float[] {1}, 1).write(file);
        try (Safetensors s = Safetensors.open(file)) {
            assertThat(s).isInstanceOf(SafetensorsFile.class);
        }
        try (Safetensors s = Safetensors.open(dir)) {
            assertThat(s).isInstanceOf(ShardedSafetensors.class);
            assertThat(s.getFloat("x")).containsExactly(1);
        }
        assertThatThrownBy(() -> Safetensors.open(dir.resolve("missing.safetensors")))
                .isInstanceOf(SafetensorsException.class).hasMessageContaining("missing.safetensors");
    }

    private List<String> listDir() throws IOException {
        try (java.util.stream.Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).toList();
        }
    }

    /** The /proc/self/maps line of a mapping of {@code file} that contains {@code address}, or null. */
    static String mappingOf(long address, Path file) throws IOException {
        String path = file.toRealPath().toString();
        for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
            if (!line.endsWith(path)) continue;
            String[] range = line.split("\\s+")[0].split("-");
            long lo = Long.parseUnsignedLong(range[0], 16);
            long hi = Long.parseUnsignedLong(range[1], 16);
            if (address >= lo && address < hi) return line;
        }
        return null;
    }

    private static byte[] le(short[] v) {
        ByteBuffer b = ByteBuffer.allocate(2 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        b.asShortBuffer().put(v);
        return b.array();
    }

    private static float[] toFloat(double[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) f[i] = (float) v[i];
        return f;
    }

    private static float[] toFloat(int[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) f[i] = v[i];
        return f;
    }
}
