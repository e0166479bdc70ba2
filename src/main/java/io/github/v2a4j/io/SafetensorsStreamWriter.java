package io.github.v2a4j.io;

import com.google.gson.stream.JsonWriter;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.bytedeco.javacpp.BytePointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Writes a safetensors file whose tensor list is known up front, tensor data arriving one piece at a time (the
 * converter's case: a 16 GB checkpoint never has to be in memory at once).
 *
 * <p>The layout is deterministic: header keys sorted by name ({@code __metadata__} first), header padded with spaces
 * to a multiple of 8, data ordered by element size (largest first) and then name, so every tensor starts aligned to
 * its element size without gaps (readers such as the Rust reference reject gaps). Data goes to a temporary file in
 * the target's directory, renamed over the target by {@link #commit()}; {@link #close()} without commit deletes it,
 * so a failure never leaves a half-written file under the final name. The file's sha256 is computed as the bytes go
 * out when they arrive in {@link #dataOrder()} (else by reading the file back once at commit).
 */
public final class SafetensorsStreamWriter implements AutoCloseable {

    /** dtype and shape of one tensor to be written. */
    public record Spec(Dtype dtype, long... shape) {
        public long bytes() {
            long n = dtype.size();
            for (long d : shape) n = Math.multiplyExact(n, d);
            return n;
        }
    }

    private static final class Slot {
        final String name;
        final Spec spec;
        final long begin;
        long written;

        Slot(String name, Spec spec, long begin) {
            this.name = name;
            this.spec = spec;
            this.begin = begin;
        }
    }

    private final Path target;
    private final OutputFile output;
    private final Path temp;
    private final FileChannel ch;
    private final long dataStart;
    private final Map<String, Slot> slots = new LinkedHashMap<>();
    private final MessageDigest digest = sha256Digest();
    /** File bytes hashed so far, all in file order; {@code -1} once a piece arrived out of order. */
    private long hashed;
    private String sha256;
    private boolean done;

    /**
     * Creates the temporary file and writes the header. {@code metadata} may be empty; tensor names must be
     * non-empty and not {@code __metadata__}.
     */
    public SafetensorsStreamWriter(Path target, Map<String, Spec> tensors, Map<String, String> metadata) {
        this.target = target;
        List<Map.Entry<String, Spec>> order = new ArrayList<>(tensors.entrySet());
        order.sort(Comparator.comparingInt((Map.Entry<String, Spec> e) -> -e.getValue().dtype().size())
                .thenComparing(Map.Entry::getKey));
        long offset = 0;
        for (Map.Entry<String, Spec> e : order) {
            String name = e.getKey();
            Spec s = e.getValue();
            if (name.isEmpty() || name.equals("__metadata__")) {
                throw new IllegalArgumentException(target + ": invalid tensor name '" + name + "'");
            }
            for (long d : s.shape()) {
                if (d < 0) throw new IllegalArgumentException(target + ": tensor '" + name + "' has negative shape "
                        + Arrays.toString(s.shape()));
            }
            slots.put(name, new Slot(name, s, offset));
            offset += s.bytes();
        }
        byte[] header = header(new TreeMap<>(slots), new TreeMap<>(metadata));
        this.dataStart = 8 + header.length;
        try {
            this.output = OutputFile.create(target);
        } catch (UncheckedIOException e) {
            throw new UncheckedIOException(target + ": cannot create a temporary file beside it", e.getCause());
        }
        this.temp = output.tmp();
        FileChannel c = null;
        try {
            // READ too: a file written out of order is hashed again from disk at commit
            c = FileChannel.open(temp, StandardOpenOption.READ, StandardOpenOption.WRITE);
            ByteBuffer head = ByteBuffer.allocate(8 + header.length).order(ByteOrder.LITTLE_ENDIAN);
            head.putLong(header.length).put(header).flip();
            digest.update(head.duplicate());
            hashed = head.remaining();
            while (head.hasRemaining()) c.write(head);
        } catch (IOException e) {
            closeQuietly(c);
            deleteQuietly();
            throw new UncheckedIOException(target + ": cannot write", e);
        }
        this.ch = c;
    }

    /** The order in which data lies in the file; writing in this order is sequential I/O. */
    public List<String> dataOrder() {
        return new ArrayList<>(slots.keySet());
    }

    /**
     * Appends the next little-endian bytes of tensor {@code name} (from the buffer's position to its limit). A tensor
     * may come in any number of pieces; tensors may come in any order.
     */
    public void append(String name, ByteBuffer bytes) {
        Slot s = slot(name);
        long len = bytes.remaining();
        if (s.written + len > s.spec.bytes()) {
            throw new IllegalArgumentException(target + ": tensor '" + name + "' would get " + (s.written + len)
                    + " bytes, its shape needs " + s.spec.bytes());
        }
        long pos = dataStart + s.begin + s.written;
        if (pos == hashed) {
            digest.update(bytes.duplicate());
            hashed += len;
        } else {
            hashed = -1;
        }
        writeFully(bytes, pos);
        s.written += len;
    }

    /** Writes a whole tensor from an INDArray whose data type matches the declared dtype. */
    public void write(String name, INDArray a) {
        Slot s = slot(name);
        Dtype d = dtypeOf(a.dataType());
        if (d != s.spec.dtype() || !Arrays.equals(a.shape(), s.spec.shape())) {
            throw new IllegalArgumentException(target + ": tensor '" + name + "' declared " + s.spec.dtype()
                    + Arrays.toString(s.spec.shape()) + ", got " + d + Arrays.toString(a.shape()));
        }
        if (a.length() == 0) return;
        INDArray c = a.ordering() == 'c' && !a.isView() && a.data().length() == a.length() ? a : a.dup('c');
        long total = c.length() * d.size();
        BytePointer raw = new BytePointer(c.data().addressPointer());
        raw.capacity(total);
        for (long off = 0; off < total; off += 1 << 24) {
            long len = Math.min(1 << 24, total - off);
            // getPointer, not position(): JavaCPP 1.5.7 builds a wrong buffer once position exceeds 2^31 bytes.
            append(name, raw.<BytePointer>getPointer(off).limit(len).asBuffer());
        }
    }

    /** Checks every tensor is complete, flushes to disk and atomically renames the file to its target name. */
    public void commit() {
        if (done) throw new IllegalStateException(target + ": already committed or closed");
        for (Slot s : slots.values()) {
            if (s.written != s.spec.bytes()) {
                throw new IllegalStateException(target + ": tensor '" + s.name + "' has " + s.written + " of "
                        + s.spec.bytes() + " bytes");
            }
        }
        try {
            ch.force(true);
            if (hashed != ch.size()) hashFile();
            sha256 = HexFormat.of().formatHex(digest.digest());
            ch.close();
            output.commit(true);
            done = true;
        } catch (IOException e) {
            close();
            throw new UncheckedIOException(target + ": cannot finish writing", e);
        }
    }

    /** The sha256 of the committed file, in lowercase hex. */
    public String sha256() {
        if (sha256 == null) throw new IllegalStateException(target + ": not committed");
        return sha256;
    }

    private void hashFile() throws IOException {
        digest.reset();
        ByteBuffer buf = ByteBuffer.allocate(1 << 20);
        long pos = 0;
        for (int r; (r = ch.read(buf.clear(), pos)) > 0; pos += r) digest.update(buf.flip());
    }

    private static MessageDigest sha256Digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Without a preceding {@link #commit()}, discards the temporary file: the target is left as it was. */
    @Override
    public void close() {
        if (done) return;
        done = true;
        closeQuietly(ch);
        deleteQuietly();
    }

    static Dtype dtypeOf(DataType t) {
        return switch (t) {
            case FLOAT -> Dtype.F32;
            case DOUBLE -> Dtype.F64;
            case HALF -> Dtype.F16;
            case BFLOAT16 -> Dtype.BF16;
            case LONG -> Dtype.I64;
            case INT -> Dtype.I32;
            case SHORT -> Dtype.I16;
            case BYTE -> Dtype.I8;
            case UBYTE -> Dtype.U8;
            case BOOL -> Dtype.BOOL;
            default -> throw new IllegalArgumentException("no safetensors dtype for ND4J " + t);
        };
    }

    private Slot slot(String name) {
        if (done) throw new IllegalStateException(target + ": already committed or closed");
        Slot s = slots.get(name);
        if (s == null) throw new IllegalArgumentException(target + ": tensor '" + name + "' was not declared");
        return s;
    }

    private void writeFully(ByteBuffer b, long pos) {
        try {
            while (b.hasRemaining()) pos += ch.write(b, pos);
        } catch (IOException e) {
            throw new UncheckedIOException(target + ": cannot write", e);
        }
    }

    private static byte[] header(Map<String, Slot> sorted, Map<String, String> metadata) {
        StringWriter sw = new StringWriter();
        try (JsonWriter w = new JsonWriter(sw)) {
            w.setHtmlSafe(false);
            w.beginObject();
            if (!metadata.isEmpty()) {
                w.name("__metadata__").beginObject();
                for (Map.Entry<String, String> e : metadata.entrySet()) w.name(e.getKey()).value(e.getValue());
                w.endObject();
            }
            for (Slot s : sorted.values()) {
                w.name(s.name).beginObject();
                w.name("dtype").value(s.spec.dtype().name());
                w.name("shape").beginArray();
                for (long d : s.spec.shape()) w.value(d);
                w.endArray();
                w.name("data_offsets").beginArray().value(s.begin).value(s.begin + s.spec.bytes()).endArray();
                w.endObject();
            }
            w.endObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        byte[] json = sw.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        byte[] out = Arrays.copyOf(json, padded);
        Arrays.fill(out, json.length, padded, (byte) ' ');
        return out;
    }

    private static void closeQuietly(FileChannel c) {
        if (c == null) return;
        try {
            c.close();
        } catch (IOException ignored) {
            // The file is deleted next; nothing of it is kept.
        }
    }

    private void deleteQuietly() {
        output.close();
    }
}
