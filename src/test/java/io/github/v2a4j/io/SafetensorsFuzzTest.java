package io.github.v2a4j.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Mutates valid files (byte flips biased to the header, JSON-significant characters, truncations, header-length
 * edits) and reads every tensor of whatever still opens. The only exception allowed is SafetensorsException; a JVM
 * crash, hang or OutOfMemoryError fails the run. Runs 3 s in the default suite; {@code -Pslow} runs 120 s.
 * {@code -Dv2a.fuzz.seconds=N} and {@code -Dv2a.fuzz.seed=S} override both. A failing input is kept under target/.
 */
class SafetensorsFuzzTest {

    private static final byte[] JSON_CHARS = "{}[],:\"-.0123456789eE \\".getBytes();

    @TempDir
    Path dir;

    @Test
    void shortRun() {
        run(Long.getLong("v2a.fuzz.seconds", 3), Long.getLong("v2a.fuzz.seed", 20261205L));
    }

    @Test
    @Tag("slow")
    void longRun() {
        run(Long.getLong("v2a.fuzz.seconds", 120), Long.getLong("v2a.fuzz.seed", 7L));
    }

    /** A hang in the reader shows up as a timeout, a minute after the planned end. */
    private void run(long seconds, long seed) {
        assertTimeoutPreemptively(Duration.ofSeconds(seconds + 60), () -> fuzz(seconds, seed));
    }

    private void fuzz(long seconds, long seed) throws IOException {
        List<byte[]> seeds = seeds();
        SplittableRandom rnd = new SplittableRandom(seed);
        Path file = dir.resolve("fuzz.safetensors");
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        int iterations = 0;
        int opened = 0;
        while (System.nanoTime() < deadline) {
            byte[] input = mutate(seeds.get(rnd.nextInt(seeds.size())), rnd);
            Files.write(file, input);
            try {
                if (readEverything(file)) opened++;
            } catch (SafetensorsException expected) {
                assertThat(expected.getMessage()).contains(file.toString());
            } catch (Throwable t) {
                Path keep = Path.of("target", "fuzz-failure-" + seed + "-" + iterations + ".safetensors");
                Files.createDirectories(keep.getParent());
                Files.write(keep, input);
                throw new AssertionError("seed " + seed + ", iteration " + iterations + ": " + t + " (input kept in "
                        + keep + ")", t);
            }
            iterations++;
        }
        System.out.printf("fuzz: seed %d, %d inputs in %d s, %d still valid%n", seed, iterations, seconds, opened);
        assertThat(iterations).isPositive();
        assertThat(opened).as("some mutants stay valid, so the read paths are exercised").isPositive();
    }

    /** Opens the file and reads every tensor through every accessor that applies; true if it opened. */
    private static boolean readEverything(Path file) {
        try (SafetensorsFile st = SafetensorsFile.open(file, warning -> {})) { // mutants have many gaps
            for (String name : st.names()) {
                TensorInfo t = st.info(name);
                INDArray m = st.mapped(name);
                if (m.length() > 0) m.sumNumber();
                st.loadFloat(name);
                st.getFloat(name);
                st.loadBytes(name);
                st.mappedBytes(name);
                if (st.dtype(name).isInteger()) st.loadLong(name);
                assertThat(m.shape()).containsExactly(t.shape());
            }
            return true;
        }
    }

    private static byte[] mutate(byte[] valid, SplittableRandom rnd) {
        byte[] b = valid.clone();
        long headerLen = ByteBuffer.wrap(valid).order(ByteOrder.LITTLE_ENDIAN).getLong();
        int headerEnd = (int) (8 + headerLen);
        int edits = 1 + rnd.nextInt(3);
        for (int e = 0; e < edits; e++) {
            switch (rnd.nextInt(6)) {
                case 0 -> b[rnd.nextInt(b.length)] ^= (byte) (1 << rnd.nextInt(8));
                case 1, 2 -> b[8 + rnd.nextInt(headerEnd - 8)] = JSON_CHARS[rnd.nextInt(JSON_CHARS.length)];
                case 3 -> b = Arrays.copyOf(b, rnd.nextInt(b.length + 1));
                case 4 -> {
                    if (b.length < 8) break;
                    long len = switch (rnd.nextInt(4)) {
                        case 0 -> headerLen + rnd.nextInt(-16, 17);
                        case 1 -> rnd.nextLong();
                        case 2 -> rnd.nextInt(b.length + 16);
                        default -> Long.MAX_VALUE - rnd.nextInt(16);
                    };
                    ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, len);
                }
                default -> {
                    // Swap a digit of the header for another: shapes and offsets that still parse but lie.
                    int at = 8 + rnd.nextInt(headerEnd - 8);
                    if (at < b.length && Character.isDigit(b[at])) b[at] = (byte) ('0' + rnd.nextInt(10));
                }
            }
            if (b.length < headerEnd) break; // later edits assume the header is still there
        }
        return b;
    }

    private List<byte[]> seeds() throws IOException {
        List<byte[]> seeds = new ArrayList<>();
        Path a = dir.resolve("seed-a.safetensors");
        new SafetensorsWriter().metadata("format", "pt")
                .put("w", Nd4j.rand(DataType.FLOAT, 4, 6))
                .put("b", Nd4j.rand(DataType.FLOAT, 6))
                .putLong("ids", new long[] {1, 2, 3}, 3)
                .putRaw("h", Dtype.BF16, new byte[] {(byte) 0x80, 0x3F, 0x00, 0x40}, 2)
                .putRaw("img", Dtype.U8, new byte[] {1, 2, 3, 4, 5, 6}, 1, 2, 3)
                .write(a);
        seeds.add(Files.readAllBytes(a));
        Path b = dir.resolve("seed-b.safetensors");
        new SafetensorsWriter()
                .put("scalar", Nd4j.scalar(1.5f))
                .putFloat("empty", new float[0], 0, 4)
                .putRaw("f16", Dtype.F16, new byte[] {0, 0x3C, 0, (byte) 0xC0}, 2)
                .putRaw("flags", Dtype.BOOL, new byte[] {1, 0, 1}, 3)
                .putInt("i", new int[] {7, -7}, 2)
                .write(b);
        seeds.add(Files.readAllBytes(b));
        return seeds;
    }
}
