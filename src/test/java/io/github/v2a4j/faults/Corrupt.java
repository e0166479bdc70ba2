package io.github.v2a4j.faults;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.v2a4j.io.Safetensors;
import io.github.v2a4j.io.SafetensorsFile;
import io.github.v2a4j.io.TensorInfo;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.function.Consumer;
import java.util.stream.Stream;

/** Ways to damage a copy of a model or a video in place, the way disks, downloads and people damage them. */
public final class Corrupt {

    private Corrupt() {}

    /** Copies a folder tree (the demo model) so that it can be damaged. */
    public static Path copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : s.sorted(Comparator.comparing(Path::toString)).toList()) {
                Path q = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) Files.createDirectories(q);
                else Files.copy(p, q);
            }
        }
        return to;
    }

    /** Where a tensor's bytes lie in its file: absolute offset and length. */
    public static long[] span(Path file, String tensor) {
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            TensorInfo t = f.info(tensor);
            return new long[] {f.dataStart() + t.begin(), t.end() - t.begin()};
        }
    }

    /** Overwrites the F32 element {@code index} of {@code tensor} in place; the header stays byte for byte the same. */
    public static void setFloat(Path file, String tensor, long index, float value) throws IOException {
        long[] s = span(file, tensor);
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.seek(s[0] + 4 * index);
            raf.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(value).array());
        }
    }

    /** Fills a whole F32 tensor with {@code value} in place. */
    public static void fillFloat(Path file, String tensor, float value) throws IOException {
        long[] s = span(file, tensor);
        ByteBuffer b = ByteBuffer.allocate((int) s[1]).order(ByteOrder.LITTLE_ENDIAN);
        while (b.hasRemaining()) b.putFloat(value);
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.seek(s[0]);
            raf.write(b.array());
        }
    }

    /** The header of a safetensors file as JSON. */
    public static JsonObject header(Path file) throws IOException {
        byte[] all = Files.readAllBytes(file);
        long n = ByteBuffer.wrap(all, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        return JsonParser.parseString(new String(all, 8, (int) n, StandardCharsets.UTF_8)).getAsJsonObject();
    }

    /** Rewrites a safetensors file's header through {@code edit}, keeping the data bytes as they were. */
    public static void editHeader(Path file, Consumer<JsonObject> edit) throws IOException {
        byte[] all = Files.readAllBytes(file);
        long n = ByteBuffer.wrap(all, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        JsonObject h = JsonParser.parseString(new String(all, 8, (int) n, StandardCharsets.UTF_8)).getAsJsonObject();
        edit.accept(h);
        byte[] json = h.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        byte[] head = Arrays.copyOf(json, padded);
        Arrays.fill(head, json.length, padded, (byte) ' ');
        ByteBuffer out = ByteBuffer.allocate(8 + padded + all.length - 8 - (int) n).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(padded).put(head).put(all, 8 + (int) n, all.length - 8 - (int) n);
        Files.write(file, out.array());
    }

    /** Sets a tensor's dtype in the header without touching its bytes (I32 keeps the byte span of F32). */
    public static void retype(Path file, String tensor, String dtype) throws IOException {
        editHeader(file, h -> h.getAsJsonObject(tensor).addProperty("dtype", dtype));
    }

    /**
     * Sets the media time scale (ticks per second) of every track of an mp4 in place: the field of each {@code mdhd}
     * box after its version, flags and two times (4 bytes each, 8 in version 1). Zero is what a damaged or
     * hand-made file carries; the frame rate FFmpeg reports then has no relation to the video.
     */
    public static void setTimeScale(Path mp4, long ticksPerSecond) throws IOException {
        byte[] b = Files.readAllBytes(mp4);
        int found = 0;
        for (int i = 4; i + 4 <= b.length; i++) {
            if (b[i] != 'm' || b[i + 1] != 'd' || b[i + 2] != 'h' || b[i + 3] != 'd') continue;
            int fields = i + 4; // version (1 byte), flags (3)
            ByteBuffer.wrap(b).putInt(fields + 4 + (b[fields] == 1 ? 16 : 8), (int) ticksPerSecond);
            found++;
        }
        if (found == 0) throw new IllegalArgumentException(mp4 + ": no mdhd box");
        Files.write(mp4, b);
    }

    /** Zeroes the content of the first {@code type} box of an mp4 (its size and type stay), e.g. the sample timing. */
    public static void zeroBox(Path mp4, String type) throws IOException {
        byte[] b = Files.readAllBytes(mp4);
        byte[] t = type.getBytes(StandardCharsets.ISO_8859_1);
        for (int i = 4; i + 4 <= b.length; i++) {
            if (b[i] != t[0] || b[i + 1] != t[1] || b[i + 2] != t[2] || b[i + 3] != t[3]) continue;
            long size = ByteBuffer.wrap(b).getInt(i - 4) & 0xffffffffL;
            Arrays.fill(b, i + 4, (int) Math.min(b.length, i - 4 + size), (byte) 0);
            Files.write(mp4, b);
            return;
        }
        throw new IllegalArgumentException(mp4 + ": no " + type + " box");
    }

    /** The names of the tensors of a safetensors file, sorted. */
    public static String[] tensors(Path file) {
        try (Safetensors s = Safetensors.open(file)) {
            return s.names().toArray(new String[0]);
        }
    }
}
