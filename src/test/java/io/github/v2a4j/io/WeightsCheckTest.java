package io.github.v2a4j.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.v2a4j.faults.Corrupt;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class WeightsCheckTest {

    @TempDir
    Path dir;

    @ParameterizedTest
    @CsvSource({"F32,4", "F64,8", "F16,2", "BF16,2"})
    void finiteIsReadFromTheExponentBitsOfEveryFloatDtype(String dtype, int size) {
        Dtype d = Dtype.valueOf(dtype);
        for (int n : new int[] {1, 2, 7, 64}) {
            for (int at = 0; at < n; at++) {
                for (String kind : new String[] {"nan", "+inf", "-inf"}) {
                    ByteBuffer b = ByteBuffer.allocate(n * size).order(ByteOrder.LITTLE_ENDIAN);
                    for (int i = 0; i < n; i++) put(b, d, i, i == at ? special(kind) : 1e4 * (i - 3));
                    assertThat(Finite.firstNonFinite(b, d)).as(dtype + " n=" + n + " at=" + at).isEqualTo(at);
                    assertThat(Finite.describe(b, d, at)).isEqualTo(kind.equals("nan") ? "NaN" : kind.equals("+inf")
                            ? "+Inf" : "-Inf");
                }
            }
            ByteBuffer ok = ByteBuffer.allocate(n * size).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < n; i++) put(ok, d, i, -1e-30 * i); // subnormals and zeros are finite
            assertThat(Finite.firstNonFinite(ok, d)).isEqualTo(-1);
        }
        assertThat(Finite.firstNonFinite(ByteBuffer.wrap(new byte[] {-1, -1, -1, -1}), Dtype.I32)).isEqualTo(-1);
    }

    static double special(String kind) {
        return switch (kind) {
            case "nan" -> Double.NaN;
            case "+inf" -> Double.POSITIVE_INFINITY;
            default -> Double.NEGATIVE_INFINITY;
        };
    }

    static void put(ByteBuffer b, Dtype d, int i, double v) {
        switch (d) {
            case F32 -> b.putFloat(4 * i, (float) v);
            case F64 -> b.putDouble(8 * i, v);
            case BF16 -> b.putShort(2 * i, (short) (Float.floatToRawIntBits((float) v) >>> 16));
            case F16 -> b.putShort(2 * i, Double.isNaN(v) ? (short) 0x7e00 : Double.isInfinite(v)
                    ? (short) (v > 0 ? 0x7c00 : 0xfc00) : (short) 0x3c00);
            default -> throw new IllegalArgumentException();
        }
    }

    Path weights(String name) {
        Path f = dir.resolve(name);
        new SafetensorsWriter().putFloat("a", new float[] {1, 2, 3}, 3).putFloat("b", new float[12], 3, 4)
                .putInt("ids", new int[] {0x7fc00000, -1}, 2).write(f);
        return f;
    }

    @Test
    void aNonFiniteWeightIsNamedByFileTensorAndElement() throws Exception {
        Path f = weights("model.safetensors");
        assertThat(WeightsCheck.scan(f)).matches("[0-9a-f]{64}"); // integer tensors with NaN-looking bits are fine
        Corrupt.setFloat(f, "b", 7, Float.NEGATIVE_INFINITY);
        assertThatThrownBy(() -> WeightsCheck.scan(f)).isInstanceOf(SafetensorsException.class)
                .hasMessage(f + ": tensor 'b' holds -Inf at element 7 of 12 (shape [3, 4]): the weights are damaged; "
                        + "convert or download them again");
    }

    @Test
    void aCheckedFileIsNotReadAgainUntilItChanges() throws Exception {
        Path model = Files.createDirectories(dir.resolve("model"));
        Path f = weights("model/model.safetensors");
        Files.writeString(model.resolve("config.json"), "{}");
        Path stamps = dir.resolve("cache/weights-checked");
        String first = WeightsCheck.fingerprint(model, stamps);
        try (Stream<Path> s = Files.list(stamps)) {
            assertThat(s.count()).isEqualTo(1);
        }
        assertThat(WeightsCheck.fingerprint(model, stamps)).isEqualTo(first);

        // same header, one value changed: the content identity changes (a stale black-video cache entry would
        // otherwise be reused), and the new NaN is found although the file was checked before
        Corrupt.setFloat(f, "a", 1, 2.5f);
        String second = WeightsCheck.fingerprint(model, stamps);
        assertThat(second).isNotEqualTo(first);
        Corrupt.setFloat(f, "a", 1, Float.NaN);
        assertThatThrownBy(() -> WeightsCheck.fingerprint(model, stamps)).hasMessageContaining("tensor 'a' holds NaN");
        Files.writeString(model.resolve("config.json"), "{\"x\":1}");
        Corrupt.setFloat(f, "a", 1, 2.5f);
        assertThat(WeightsCheck.fingerprint(model, stamps)).isNotEqualTo(second); // configs count too
    }

    @Test
    void aSettledStampIsTrustedWithoutReadingTheFile() throws Exception {
        Path model = Files.createDirectories(dir.resolve("settled"));
        weights("settled/model.safetensors");
        Path stamps = dir.resolve("stamps");
        String real = WeightsCheck.fingerprint(model, stamps);
        Thread.sleep(WeightsCheck.SETTLE_MILLIS + 100);
        Path stamp;
        try (Stream<Path> s = Files.list(stamps)) {
            stamp = s.findFirst().orElseThrow();
        }
        // a stamp written well after the file last changed is believed: here it lies, and the lie shows
        Files.writeString(stamp, "0".repeat(64) + "\n");
        assertThat(WeightsCheck.fingerprint(model, stamps)).isNotEqualTo(real);
    }

    @Test
    void copiesOfTheSameWeightsShareTheFingerprint() throws Exception {
        Path a = Files.createDirectories(dir.resolve("a"));
        Path b = Files.createDirectories(dir.resolve("b"));
        weights("a/model.safetensors");
        Files.copy(a.resolve("model.safetensors"), b.resolve("model.safetensors"));
        assertThat(WeightsCheck.fingerprint(a, null)).isEqualTo(WeightsCheck.fingerprint(b, null));
    }

    @Test
    void anUnwritableStampFolderOnlyCostsTime() throws Exception {
        Path model = Files.createDirectories(dir.resolve("m"));
        weights("m/model.safetensors");
        Path blocked = Files.writeString(dir.resolve("blocked"), "a file, not a folder");
        assertThat(WeightsCheck.fingerprint(model, blocked.resolve("weights-checked")))
                .isEqualTo(WeightsCheck.fingerprint(model, null));
    }

    @Test
    void theCacheFolderFallsBackToTheUserCacheWhenTheModelsFolderIsNotWritable() throws Exception {
        Path model = Files.createDirectories(dir.resolve("models/v2a"));
        Map<String, String> env = Map.of("XDG_CACHE_HOME", dir.resolve("xdg").toString());
        assertThat(CacheDir.choose(null, model, env, "/home/u")).isEqualTo(dir.resolve("models/v2a.v2a4j-cache"));
        // a regular file where the cache folder would go: as good as a read-only folder, also for root
        Path model2 = Files.createDirectories(dir.resolve("ro/v2a"));
        Files.writeString(dir.resolve("ro/v2a.v2a4j-cache"), "in the way");
        assertThat(CacheDir.choose(null, model2, env, "/home/u")).isEqualTo(dir.resolve("xdg/v2a4j"));
        assertThat(CacheDir.choose(null, model2, Map.of(), "/home/u")).isEqualTo(Path.of("/home/u/.cache/v2a4j"));
        assertThat(CacheDir.choose(null, model2, Map.of(CacheDir.ENV, "/srv/cache"), "/home/u"))
                .isEqualTo(Path.of("/srv/cache"));
        assertThat(CacheDir.choose(dir.resolve("given"), model2, Map.of(CacheDir.ENV, "/srv/cache"), "/home/u"))
                .isEqualTo(dir.resolve("given"));
    }
}
