package io.github.v2a4j.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One case per kind of broken file; each message must name the file, the tensor where there is one, and the problem. */
class SafetensorsMalformedTest {

    @TempDir
    Path dir;

    private static final String OK_ENTRY = "{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}";

    @Test
    void shorterThanEightBytes() throws IOException {
        Path f = Files.write(dir.resolve("tiny.safetensors"), new byte[5]);
        assertBad(f, "5 bytes, shorter than the 8-byte header length");
    }

    @Test
    void emptyFile() throws IOException {
        Path f = Files.write(dir.resolve("empty.safetensors"), new byte[0]);
        assertBad(f, "0 bytes");
    }

    @Test
    void headerLengthZero() throws IOException {
        assertBad(StFiles.bytes(dir.resolve("zero.safetensors"), 0, new byte[0], new byte[16]), "header length is 0");
    }

    @Test
    void headerLengthAboveLimit() throws IOException {
        assertBad(StFiles.bytes(dir.resolve("huge.safetensors"), 200_000_000L, "{}".getBytes(), new byte[0]),
                "header length 200000000 exceeds the limit");
    }

    @Test
    void headerLengthNegativeAsSigned() throws IOException {
        assertBad(StFiles.bytes(dir.resolve("neg.safetensors"), -1L, "{}".getBytes(), new byte[0]),
                "header length 18446744073709551615 exceeds the limit");
    }

    @Test
    void headerLengthBeyondFile() throws IOException {
        assertBad(StFiles.bytes(dir.resolve("short.safetensors"), 1000, "{}      ".getBytes(), new byte[0]),
                "header length 1000 reaches beyond the end of the file (16 bytes)");
    }

    @Test
    void malformedJson() throws IOException {
        assertBad(header("bad.safetensors", "{\"a\": {\"dtype\": "), "malformed JSON header");
        assertBad(header("comma.safetensors", "{\"a\":" + OK_ENTRY + ",}"), "malformed JSON header");
        assertBad(header("nan.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[NaN],\"data_offsets\":[0,0]}}"),
                "malformed JSON header");
    }

    @Test
    void invalidUtf8() throws IOException {
        byte[] h = {'{', '"', (byte) 0xC3, (byte) 0x28, '"', ':', '1', '}'};
        assertBad(StFiles.bytes(dir.resolve("utf.safetensors"), h.length, h, new byte[0]), "not valid UTF-8");
    }

    @Test
    void trailingDataAfterJson() throws IOException {
        assertBad(header("trail.safetensors", "{\"a\":" + OK_ENTRY + "} {}"), "unexpected data after the header");
    }

    @Test
    void headerNotAnObject() throws IOException {
        assertBad(header("array.safetensors", "[1, 2, 3]"), "header is not a JSON object (found an array)");
        assertBad(header("string.safetensors", "\"hello\""), "header is not a JSON object (found a string)");
    }

    @Test
    void entryNotAnObject() throws IOException {
        assertBad(header("entry.safetensors", "{\"w\": [1,2]}"), "tensor 'w': entry is not a JSON object");
    }

    @Test
    void missingFields() throws IOException {
        assertBad(header("nodtype.safetensors", "{\"w\":{\"shape\":[2],\"data_offsets\":[0,8]}}"),
                "tensor 'w': missing dtype");
        assertBad(header("noshape.safetensors", "{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}"),
                "tensor 'w': missing shape");
        assertBad(header("nooffs.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2]}}"),
                "tensor 'w': missing data_offsets");
    }

    @Test
    void fieldsOfWrongType() throws IOException {
        assertBad(header("dt.safetensors", "{\"w\":{\"dtype\":4,\"shape\":[2],\"data_offsets\":[0,8]}}"),
                "tensor 'w': dtype is not a string");
        assertBad(header("sh.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":2,\"data_offsets\":[0,8]}}"),
                "tensor 'w': shape is not an array (found a number)");
        assertBad(header("unk.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"x\":1}}"),
                "tensor 'w': unknown field 'x'");
        assertBad(header("dupf.safetensors", "{\"w\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[2],"
                + "\"data_offsets\":[0,8]}}"), "tensor 'w': duplicate field 'dtype'");
        assertBad(header("three.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4,8]}}"),
                "tensor 'w': data_offsets must be [begin, end], got 3 numbers");
    }

    @Test
    void unknownDtype() throws IOException {
        assertBad(header("dtype.safetensors", "{\"w\":{\"dtype\":\"Q4_K\",\"shape\":[2],\"data_offsets\":[0,8]}}"),
                "tensor 'w': unknown dtype 'Q4_K' (supported: F64, F32");
    }

    @Test
    void negativeOrNonIntegerDims() throws IOException {
        assertBad(header("neg.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}"),
                "tensor 'w': shape holds -2, not a non-negative integer");
        assertBad(header("frac.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,8]}}"),
                "tensor 'w': shape holds 1.5, not a non-negative integer");
        assertBad(header("exp.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2e0],\"data_offsets\":[0,8]}}"),
                "tensor 'w': shape holds 2e0");
        assertBad(header("str.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[\"2\"],\"data_offsets\":[0,8]}}"),
                "tensor 'w': shape holds a string, not an integer");
        assertBad(header("big.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[99999999999999999999],"
                + "\"data_offsets\":[0,8]}}"), "tensor 'w': shape holds 99999999999999999999, which is too large");
        assertBad(header("noff.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[-8,0]}}"),
                "tensor 'w': data_offsets holds -8");
    }

    @Test
    void shapeProductOverflows() throws IOException {
        assertBad(header("ovf.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],"
                + "\"data_offsets\":[0,8]}}"), "tensor 'w': shape [4294967296, 4294967296] is too large");
    }

    @Test
    void shapeDoesNotMatchSpan() throws IOException {
        assertBad(header("span.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}"),
                "tensor 'w': shape [3] of F32 needs 12 bytes but data_offsets [0, 8] span 8");
    }

    @Test
    void offsetsReversed() throws IOException {
        assertBad(header("rev.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,4]}}"),
                "tensor 'w': data_offsets [8, 4] are reversed");
    }

    @Test
    void offsetsOutsideDataArea() throws IOException {
        assertBad(header("out.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}"),
                "tensor 'w': data_offsets [0, 16] lie outside the data area (8 bytes)");
    }

    @Test
    void overlappingSpans() throws IOException {
        assertBad(header("overlap.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}"),
                "tensors 'a' [0, 8) and 'b' [4, 8) overlap");
    }

    @Test
    void duplicateNames() throws IOException {
        assertBad(header("dup.safetensors", "{\"w\":" + OK_ENTRY + ",\"w\":" + OK_ENTRY + "}"),
                "duplicate tensor name 'w'");
    }

    @Test
    void metadataNotAnObjectOfStrings() throws IOException {
        assertBad(header("meta1.safetensors", "{\"__metadata__\":[\"x\"],\"w\":" + OK_ENTRY + "}"),
                "__metadata__ is not a JSON object (found an array)");
        assertBad(header("meta2.safetensors", "{\"__metadata__\":{\"total\":5},\"w\":" + OK_ENTRY + "}"),
                "__metadata__ value of 'total' is a number, not a string");
        assertBad(header("meta3.safetensors", "{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"},\"w\":" + OK_ENTRY + "}"),
                "duplicate key 'k' in __metadata__");
        assertBad(header("meta4.safetensors", "{\"__metadata__\":{},\"__metadata__\":{},\"w\":" + OK_ENTRY + "}"),
                "duplicate tensor name '__metadata__'");
    }

    @Test
    void gapsAreOnlyWarnings() throws IOException {
        Path f = StFiles.raw(dir.resolve("gap.safetensors"),
                pad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}"), new byte[12]);
        List<String> logged = new ArrayList<>();
        try (SafetensorsFile st = SafetensorsFile.open(f, logged::add)) {
            assertThat(st.getFloat("a")).containsExactly(0f);
            assertThat(logged).isEqualTo(st.warnings());
            assertThat(st.warnings()).hasSize(2);
            assertThat(st.warnings().get(0)).contains("gap.safetensors").contains("4 unused bytes before tensor 'a'");
            assertThat(st.warnings().get(1)).contains("4 unused bytes after the last tensor");
        }
    }

    @Test
    void notAFile() {
        assertThatThrownBy(() -> SafetensorsFile.open(dir.resolve("absent.safetensors")))
                .isInstanceOf(SafetensorsException.class).hasMessageContaining("absent.safetensors: no such file");
        assertThatThrownBy(() -> SafetensorsFile.open(dir))
                .isInstanceOf(SafetensorsException.class).hasMessageContaining("is a directory");
    }

    /** A header padded to 8 bytes with 8 bytes of data after it. */
    private Path header(String name, String json) throws IOException {
        return StFiles.raw(dir.resolve(name), pad(json), new byte[8]);
    }

    private static String pad(String json) {
        int len = json.getBytes(StandardCharsets.UTF_8).length;
        return json + " ".repeat((8 - len % 8) % 8);
    }

    private static void assertBad(Path file, String problem) {
        assertThatThrownBy(() -> SafetensorsFile.open(file).close())
                .isInstanceOf(SafetensorsException.class)
                .hasMessageStartingWith(file.toString() + ": ")
                .hasMessageContaining(problem);
    }
}
