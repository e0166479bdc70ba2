package io.github.v2a4j.io;

import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import com.google.gson.stream.MalformedJsonException;
import java.io.EOFException;
import java.io.IOException;
import java.io.StringReader;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The parsed and fully validated header of one safetensors file. Every check that protects the reader happens here,
 * before anything is sized from header values: a tensor's byte span must equal shape × dtype size and lie inside the
 * data area, so later reads never allocate more than the file holds.
 */
final class SafetensorsHeader {

    /** Same cap as the reference Rust implementation; real headers are well under 1 MB. */
    static final long MAX_HEADER_BYTES = 100_000_000L;

    private static final Pattern UNSIGNED = Pattern.compile("0|[1-9][0-9]*");

    final Path file;
    /** Absolute file offset of the data area (8 + header length). */
    final long dataStart;
    final long dataLength;
    final Map<String, TensorInfo> tensors;
    final Map<String, Dtype> dtypes;
    final Map<String, String> metadata;
    /** Harmless oddities (unused bytes); logged, never fatal. */
    final List<String> warnings;

    private SafetensorsHeader(Path file, long dataStart, long dataLength, Map<String, TensorInfo> tensors,
                              Map<String, Dtype> dtypes, Map<String, String> metadata, List<String> warnings) {
        this.file = file;
        this.dataStart = dataStart;
        this.dataLength = dataLength;
        this.tensors = tensors;
        this.dtypes = dtypes;
        this.metadata = metadata;
        this.warnings = warnings;
    }

    static SafetensorsHeader read(Path file, FileChannel ch) throws IOException {
        long size = ch.size();
        if (size < 8) throw fail(file, "file is " + size + " bytes, shorter than the 8-byte header length");
        ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(file, ch, lenBuf, 0);
        long n = lenBuf.getLong(0);
        if (n == 0) throw fail(file, "header length is 0");
        if (n < 0 || n > MAX_HEADER_BYTES) {
            throw fail(file, "header length " + Long.toUnsignedString(n) + " exceeds the limit of "
                    + MAX_HEADER_BYTES + " bytes");
        }
        if (8 + n > size) {
            throw fail(file, "header length " + n + " reaches beyond the end of the file (" + size + " bytes)");
        }
        ByteBuffer hb = ByteBuffer.allocate((int) n);
        readFully(file, ch, hb, 8);
        hb.flip();
        String json;
        try {
            json = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(hb).toString();
        } catch (CharacterCodingException e) {
            throw fail(file, "header is not valid UTF-8");
        }
        long dataStart = 8 + n;
        return parse(file, json, dataStart, size - dataStart);
    }

    static void readFully(Path file, FileChannel ch, ByteBuffer dst, long pos) throws IOException {
        while (dst.hasRemaining()) {
            int r = ch.read(dst, pos);
            if (r < 0) throw fail(file, "unexpected end of file at byte " + pos + " (was the file truncated?)");
            pos += r;
        }
    }

    private static SafetensorsHeader parse(Path file, String json, long dataStart, long dataLength) {
        Map<String, TensorInfo> tensors = new TreeMap<>();
        Map<String, Dtype> dtypes = new TreeMap<>();
        Map<String, String> metadata = Collections.emptyMap();
        JsonReader r = new JsonReader(new StringReader(json));
        r.setStrictness(Strictness.STRICT);
        try {
            JsonToken first = r.peek();
            if (first != JsonToken.BEGIN_OBJECT) {
                throw fail(file, "header is not a JSON object (found " + describe(first) + ")");
            }
            r.beginObject();
            Set<String> seen = new HashSet<>();
            while (r.hasNext()) {
                String name = r.nextName();
                if (!seen.add(name)) throw fail(file, "duplicate tensor name '" + name + "' in header");
                if (name.equals("__metadata__")) {
                    metadata = readMetadata(file, r);
                } else {
                    Entry e = readEntry(file, r, name, dataLength);
                    tensors.put(name, new TensorInfo(name, file, e.dtype.name(), e.shape, e.begin, e.end));
                    dtypes.put(name, e.dtype);
                }
            }
            r.endObject();
            if (!atEnd(r)) throw fail(file, "unexpected data after the header's JSON object");
        } catch (MalformedJsonException | EOFException | IllegalStateException | NumberFormatException e) {
            throw fail(file, "malformed JSON header: " + gsonMessage(e));
        } catch (IOException e) {
            throw fail(file, "cannot parse header: " + gsonMessage(e));
        }
        List<String> warnings = checkSpans(file, tensors.values(), dataLength);
        return new SafetensorsHeader(file, dataStart, dataLength, Collections.unmodifiableMap(tensors),
                Collections.unmodifiableMap(dtypes), metadata, warnings);
    }

    private record Entry(Dtype dtype, long[] shape, long begin, long end) {}

    private static Entry readEntry(Path file, JsonReader r, String name, long dataLength) throws IOException {
        if (r.peek() != JsonToken.BEGIN_OBJECT) {
            throw failTensor(file, name, "entry is not a JSON object (found " + describe(r.peek()) + ")");
        }
        r.beginObject();
        String dtype = null;
        long[] shape = null;
        long[] offsets = null;
        Set<String> keys = new HashSet<>();
        while (r.hasNext()) {
            String key = r.nextName();
            if (!keys.add(key)) throw failTensor(file, name, "duplicate field '" + key + "'");
            switch (key) {
                case "dtype" -> {
                    if (r.peek() != JsonToken.STRING) throw failTensor(file, name, "dtype is not a string");
                    dtype = r.nextString();
                }
                case "shape" -> shape = readUnsignedArray(file, r, name, "shape");
                case "data_offsets" -> offsets = readUnsignedArray(file, r, name, "data_offsets");
                default -> throw failTensor(file, name, "unknown field '" + key + "'");
            }
        }
        r.endObject();
        if (dtype == null) throw failTensor(file, name, "missing dtype");
        if (shape == null) throw failTensor(file, name, "missing shape");
        if (offsets == null) throw failTensor(file, name, "missing data_offsets");
        Dtype d = Dtype.parse(dtype);
        if (d == null) throw failTensor(file, name, "unknown dtype '" + dtype + "' (supported: " + Dtype.supported() + ")");
        if (offsets.length != 2) {
            throw failTensor(file, name, "data_offsets must be [begin, end], got " + offsets.length + " numbers");
        }
        long begin = offsets[0];
        long end = offsets[1];
        if (begin > end) throw failTensor(file, name, "data_offsets [" + begin + ", " + end + "] are reversed");
        if (end > dataLength) {
            throw failTensor(file, name, "data_offsets [" + begin + ", " + end + "] lie outside the data area ("
                    + dataLength + " bytes): the file is cut short or its header is damaged");
        }
        long bytes;
        try {
            long elements = 1;
            for (long dim : shape) elements = Math.multiplyExact(elements, dim);
            bytes = Math.multiplyExact(elements, d.size());
        } catch (ArithmeticException e) {
            throw failTensor(file, name, "shape " + Arrays.toString(shape) + " is too large");
        }
        if (bytes != end - begin) {
            throw failTensor(file, name, "shape " + Arrays.toString(shape) + " of " + d + " needs " + bytes
                    + " bytes but data_offsets [" + begin + ", " + end + "] span " + (end - begin));
        }
        return new Entry(d, shape, begin, end);
    }

    private static long[] readUnsignedArray(Path file, JsonReader r, String name, String field) throws IOException {
        if (r.peek() != JsonToken.BEGIN_ARRAY) {
            throw failTensor(file, name, field + " is not an array (found " + describe(r.peek()) + ")");
        }
        r.beginArray();
        List<Long> values = new ArrayList<>();
        while (r.hasNext()) {
            if (r.peek() != JsonToken.NUMBER) {
                throw failTensor(file, name, field + " holds " + describe(r.peek()) + ", not an integer");
            }
            String s = r.nextString();
            if (!UNSIGNED.matcher(s).matches()) {
                throw failTensor(file, name, field + " holds " + s + ", not a non-negative integer");
            }
            try {
                values.add(Long.parseLong(s));
            } catch (NumberFormatException e) {
                throw failTensor(file, name, field + " holds " + s + ", which is too large");
            }
        }
        r.endArray();
        return values.stream().mapToLong(Long::longValue).toArray();
    }

    private static Map<String, String> readMetadata(Path file, JsonReader r) throws IOException {
        if (r.peek() != JsonToken.BEGIN_OBJECT) {
            throw fail(file, "__metadata__ is not a JSON object (found " + describe(r.peek()) + ")");
        }
        Map<String, String> m = new LinkedHashMap<>();
        r.beginObject();
        while (r.hasNext()) {
            String key = r.nextName();
            if (m.containsKey(key)) throw fail(file, "duplicate key '" + key + "' in __metadata__");
            if (r.peek() != JsonToken.STRING) {
                throw fail(file, "__metadata__ value of '" + key + "' is " + describe(r.peek()) + ", not a string");
            }
            m.put(key, r.nextString());
        }
        r.endObject();
        return Collections.unmodifiableMap(m);
    }

    /** Overlaps are fatal (two tensors would alias the same bytes); gaps only waste space. */
    private static List<String> checkSpans(Path file, Iterable<TensorInfo> all, long dataLength) {
        List<TensorInfo> spans = new ArrayList<>();
        for (TensorInfo t : all) if (t.end() > t.begin()) spans.add(t);
        spans.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
        List<String> warnings = new ArrayList<>();
        long covered = 0;
        TensorInfo last = null;
        for (TensorInfo t : spans) {
            if (t.begin() < covered) {
                throw fail(file, "tensors '" + last.name() + "' [" + last.begin() + ", " + last.end() + ") and '"
                        + t.name() + "' [" + t.begin() + ", " + t.end() + ") overlap");
            }
            if (t.begin() > covered) {
                warnings.add(file + ": " + (t.begin() - covered) + " unused bytes before tensor '" + t.name() + "'");
            }
            covered = t.end();
            last = t;
        }
        if (dataLength > covered) {
            warnings.add(file + ": " + (dataLength - covered) + " unused bytes after the last tensor");
        }
        return warnings;
    }

    private static String describe(JsonToken t) {
        return switch (t) {
            case BEGIN_ARRAY -> "an array";
            case BEGIN_OBJECT -> "an object";
            case STRING -> "a string";
            case NUMBER -> "a number";
            case BOOLEAN -> "a boolean";
            case NULL -> "null";
            case END_DOCUMENT -> "nothing";
            default -> t.toString();
        };
    }

    /** Whether only whitespace follows; strict Gson throws (rather than answers) on a second top-level value. */
    static boolean atEnd(JsonReader r) throws IOException {
        try {
            return r.peek() == JsonToken.END_DOCUMENT;
        } catch (MalformedJsonException e) {
            return false;
        }
    }

    /**
     * Gson's messages carry advice for Gson users and a troubleshooting URL; keep what locates the problem
     * ("Unterminated object at line 1 column 14 path $.a").
     */
    static String gsonMessage(Exception e) {
        String m = String.valueOf(e.getMessage());
        int see = m.indexOf("\nSee https://");
        if (see >= 0) m = m.substring(0, see);
        return m.replace("Use JsonReader.setStrictness(Strictness.LENIENT) to accept malformed JSON ", "syntax error ");
    }

    static SafetensorsException fail(Path file, String problem) {
        return new SafetensorsException(file + ": " + problem);
    }

    static SafetensorsException failTensor(Path file, String tensor, String problem) {
        return new SafetensorsException(file + ": tensor '" + tensor + "': " + problem);
    }
}
