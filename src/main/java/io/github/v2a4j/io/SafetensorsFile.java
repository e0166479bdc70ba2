package io.github.v2a4j.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.function.Consumer;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.indexer.FloatIndexer;
import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.LoggerFactory;

/**
 * One safetensors file. The header is validated completely at open; tensors are then read on demand.
 *
 * <p>{@link #mapped} maps each F32 tensor on its own (a Java mapping is limited to 2 GB, and per-tensor mappings let
 * the OS drop pages of tensors nobody uses) and wraps the mapping zero-copy in an INDArray. The array keeps the
 * mapping alive (INDArray → DataBuffer → FloatPointer → its deallocator → the mapped buffer), so arrays stay valid
 * after {@link #close}. The mapping is READ-ONLY: writing into such an array kills the JVM with SIGSEGV. Truncating
 * the file while arrays are mapped does the same (SIGBUS); the other accessors read with positional I/O and fail
 * with an exception instead.
 */
public final class SafetensorsFile extends Safetensors {

    /** Bytes per read window of the copying accessors; bounds their temporary memory. */
    private static final int WINDOW = 8 << 20;
    private static final int MAX_RANK = 32;
    /** Elements per dtype conversion of {@link #stream}. */
    private static final int CONVERT_PIECE = 1 << 16;

    private final Path file;
    private final FileChannel ch;
    private final SafetensorsHeader header;

    private SafetensorsFile(Path file, FileChannel ch, SafetensorsHeader header) {
        this.file = file;
        this.ch = ch;
        this.header = header;
    }

    /**
     * Opens and validates {@code file}; every problem is a {@link SafetensorsException} naming the file. Harmless
     * findings (unused bytes) are logged as warnings.
     */
    public static SafetensorsFile open(Path file) {
        return open(file, w -> LoggerFactory.getLogger(SafetensorsFile.class).warn(w));
    }

    /** Like {@link #open(Path)}, handing harmless findings to {@code warnings} instead of the log. */
    public static SafetensorsFile open(Path file, Consumer<String> warnings) {
        if (Files.isDirectory(file)) throw new SafetensorsException(file + ": is a directory, not a safetensors file");
        FileChannel ch;
        try {
            ch = FileChannel.open(file, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new SafetensorsException(file + ": no such file");
        } catch (IOException e) {
            throw wrap(file, null, e);
        }
        try {
            SafetensorsHeader h = SafetensorsHeader.read(file, ch);
            h.warnings.forEach(warnings);
            return new SafetensorsFile(file, ch, h);
        } catch (IOException e) {
            closeQuietly(ch);
            throw wrap(file, null, e);
        } catch (RuntimeException e) {
            closeQuietly(ch);
            throw e;
        }
    }

    public Path file() {
        return file;
    }

    /** Absolute offset of the data area; {@link TensorInfo#begin()} is relative to it. */
    public long dataStart() {
        return header.dataStart;
    }

    /** Non-fatal findings of the validation (unused bytes between or after tensors). */
    public List<String> warnings() {
        return header.warnings;
    }

    @Override
    public Map<String, String> metadata() {
        return header.metadata;
    }

    @Override
    public SortedSet<String> names() {
        return new TreeSet<>(header.tensors.keySet());
    }

    @Override
    public boolean contains(String name) {
        return header.tensors.containsKey(name);
    }

    @Override
    public TensorInfo info(String name) {
        TensorInfo t = header.tensors.get(name);
        if (t == null) throw new SafetensorsException(file + ": no tensor '" + name + "'");
        return t;
    }

    public Dtype dtype(String name) {
        info(name);
        return header.dtypes.get(name);
    }

    /**
     * F32: a zero-copy READ-ONLY view of the file. Other dtypes, and F32 data not 4-byte aligned in the file (a
     * foreign writer may place it so; native kernels expect aligned floats), are converted into a new array.
     */
    @Override
    public INDArray mapped(String name) {
        TensorInfo t = info(name);
        Dtype d = header.dtypes.get(name);
        long bytes = t.end() - t.begin();
        long abs = header.dataStart + t.begin();
        if (d != Dtype.F32) return loadFloat(name);
        if (bytes > Integer.MAX_VALUE) {
            throw SafetensorsHeader.failTensor(file, name, "is " + bytes + " bytes; one mapping is limited to 2 GB: "
                    + "use loadFloat or getFloat, which read it in windows");
        }
        if (abs % 4 != 0) return loadFloat(name);
        checkRank(t);
        if (bytes == 0) return Nd4j.create(DataType.FLOAT, t.shape());
        MappedByteBuffer mb;
        try {
            mb = ch.map(FileChannel.MapMode.READ_ONLY, abs, bytes);
        } catch (IOException e) {
            throw wrap(file, name, e);
        }
        FloatPointer fp = new FloatPointer(mb.order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer());
        DataBuffer db = Nd4j.createBuffer(fp, DataType.FLOAT, t.elements(), FloatIndexer.create(fp));
        return Nd4j.create(db, t.shape(), cStrides(t.shape()), 0, 'c', DataType.FLOAT);
    }

    /**
     * BF16 and F16 tensors as zero-copy READ-ONLY views of the file in their own type (2-byte aligned, under 2 GB);
     * everything else as {@link #mapped}.
     */
    @Override
    public INDArray mappedAsStored(String name) {
        TensorInfo t = info(name);
        Dtype d = header.dtypes.get(name);
        long bytes = t.end() - t.begin();
        long abs = header.dataStart + t.begin();
        if ((d != Dtype.BF16 && d != Dtype.F16) || bytes == 0 || bytes > Integer.MAX_VALUE || abs % 2 != 0) {
            return mapped(name);
        }
        checkRank(t);
        MappedByteBuffer mb;
        try {
            mb = ch.map(FileChannel.MapMode.READ_ONLY, abs, bytes);
        } catch (IOException e) {
            throw wrap(file, name, e);
        }
        org.bytedeco.javacpp.ShortPointer sp =
                new org.bytedeco.javacpp.ShortPointer(mb.order(ByteOrder.LITTLE_ENDIAN).asShortBuffer());
        DataType type = d == Dtype.BF16 ? DataType.BFLOAT16 : DataType.HALF;
        org.bytedeco.javacpp.indexer.Indexer ix = d == Dtype.BF16
                ? org.bytedeco.javacpp.indexer.Bfloat16Indexer.create(sp)
                : org.bytedeco.javacpp.indexer.HalfIndexer.create(sp);
        DataBuffer db = Nd4j.createBuffer(sp, type, t.elements(), ix);
        return Nd4j.create(db, t.shape(), cStrides(t.shape()), 0, 'c', type);
    }

    /** A new writable F32 array; read in windows, so tensors above 2 GB work too. */
    @Override
    public INDArray loadFloat(String name) {
        TensorInfo t = info(name);
        Dtype d = header.dtypes.get(name);
        checkRank(t);
        INDArray out = Nd4j.createUninitialized(DataType.FLOAT, t.shape());
        long n = t.elements();
        if (n == 0) return out;
        FloatPointer dst = new FloatPointer(out.data().addressPointer());
        dst.capacity(n);
        if (d == Dtype.F32 && ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN) {
            // Same bytes in memory as on disk: read straight into the array, no intermediate copy.
            BytePointer raw = new BytePointer(dst);
            raw.capacity(4 * n);
            for (long off = 0; off < 4 * n; off += WINDOW) {
                long len = Math.min(WINDOW, 4 * n - off);
                // getPointer, not position(): JavaCPP 1.5.7 builds a wrong buffer once position exceeds 2^31 bytes.
                ByteBuffer win = raw.<BytePointer>getPointer(off).limit(len).asBuffer();
                readAt(name, win, header.dataStart + t.begin() + off);
            }
            return out;
        }
        float[] chunk = new float[(int) Math.min(n, WINDOW / d.size())];
        forEachWindow(t, d, (b, first, count) -> {
            d.toFloat(b, chunk, 0, count);
            dst.<FloatPointer>getPointer(first).put(chunk, 0, count);
        });
        return out;
    }

    /** Reads only the requested rows (positional reads, any dtype converted to F32). */
    @Override
    public INDArray rows(String name, long[] rows) {
        TensorInfo t = info(name);
        TensorSource.checkRows(t, rows);
        Dtype d = header.dtypes.get(name);
        int cols = Math.toIntExact(t.shape()[1]);
        long rowBytes = (long) cols * d.size();
        if (rowBytes > Integer.MAX_VALUE) throw SafetensorsHeader.failTensor(file, name, "has rows over 2 GB");
        float[] out = new float[Math.multiplyExact(rows.length, cols)];
        ByteBuffer row = ByteBuffer.allocate((int) rowBytes).order(ByteOrder.LITTLE_ENDIAN);
        for (int r = 0; r < rows.length; r++) {
            row.clear();
            readAt(name, row, header.dataStart + t.begin() + rows[r] * rowBytes);
            d.toFloat(row.flip(), out, r * cols, cols);
        }
        return Nd4j.create(out, new long[] {rows.length, cols}, 'c');
    }

    @Override
    public float[] getFloat(String name) {
        TensorInfo t = info(name);
        Dtype d = header.dtypes.get(name);
        float[] out = new float[javaArrayLength(t, "getFloat")];
        forEachWindow(t, d, (b, first, count) -> d.toFloat(b, out, (int) first, count));
        return out;
    }

    @Override
    public long[] loadLong(String name) {
        TensorInfo t = info(name);
        Dtype d = requireInteger(t);
        long[] out = new long[javaArrayLength(t, "loadLong")];
        forEachWindow(t, d, (b, first, count) -> d.toLong(b, out, (int) first, count));
        return out;
    }

    @Override
    public int[] loadInt(String name) {
        TensorInfo t = info(name);
        requireInteger(t);
        long[] wide = loadLong(name);
        int[] out = new int[wide.length];
        for (int i = 0; i < wide.length; i++) {
            if (wide[i] != (int) wide[i]) {
                throw SafetensorsHeader.failTensor(file, name, "element " + i + " = " + wide[i]
                        + " does not fit in an int; use loadLong");
            }
            out[i] = (int) wide[i];
        }
        return out;
    }

    @Override
    public byte[] loadBytes(String name) {
        TensorInfo t = info(name);
        long bytes = t.end() - t.begin();
        if (bytes > Integer.MAX_VALUE - 8) {
            throw SafetensorsHeader.failTensor(file, name, "is " + bytes + " bytes, too large for a Java byte array");
        }
        byte[] out = new byte[(int) bytes];
        readAt(name, ByteBuffer.wrap(out), header.dataStart + t.begin());
        return out;
    }

    @Override
    public ByteBuffer mappedBytes(String name) {
        TensorInfo t = info(name);
        long bytes = t.end() - t.begin();
        if (bytes > Integer.MAX_VALUE) {
            throw SafetensorsHeader.failTensor(file, name, "is " + bytes + " bytes; one mapping is limited to 2 GB");
        }
        try {
            return ch.map(FileChannel.MapMode.READ_ONLY, header.dataStart + t.begin(), bytes)
                    .order(ByteOrder.LITTLE_ENDIAN);
        } catch (IOException e) {
            throw wrap(file, name, e);
        }
    }

    @Override
    public void prefetch(Iterable<String> names) {
        for (String name : names) {
            TensorInfo t = header.tensors.get(name);
            if (t != null) Prefetch.range(ch, header.dataStart + t.begin(), t.end() - t.begin());
        }
    }

    @Override
    public void stream(String name, Dtype to, Consumer<ByteBuffer> sink) {
        TensorInfo t = info(name);
        Dtype from = header.dtypes.get(name);
        if (from == to) {
            forEachWindow(t, from, (b, first, count) -> sink.accept(b));
            return;
        }
        if (!from.isFloat() || (to != Dtype.F32 && to != Dtype.BF16)) {
            throw SafetensorsHeader.failTensor(file, name, "is " + from + " and cannot be streamed as " + to);
        }
        // converted in small pieces: the window is read once, the conversion buffers stay a few hundred KB
        int piece = (int) Math.min(CONVERT_PIECE, Math.max(1, t.elements()));
        float[] chunk = new float[piece];
        ByteBuffer out = ByteBuffer.allocate(piece * to.size()).order(ByteOrder.LITTLE_ENDIAN);
        forEachWindow(t, from, (b, first, count) -> {
            for (int done = 0; done < count; done += piece) {
                int n = Math.min(piece, count - done);
                from.toFloat(b, chunk, 0, n);
                out.clear();
                to.fromFloat(chunk, 0, n, out);
                sink.accept(out.flip());
            }
        });
    }

    @Override
    public void close() {
        closeQuietly(ch);
    }

    @Override
    public String toString() {
        return file.toString();
    }

    private interface WindowConsumer {
        /** {@code b} holds {@code count} elements starting at element {@code first}, little-endian. */
        void accept(ByteBuffer b, long first, int count);
    }

    /** Positional reads in bounded windows: memory stays small and a truncated file is an exception, not a SIGBUS. */
    private void forEachWindow(TensorInfo t, Dtype d, WindowConsumer c) {
        long n = t.elements();
        if (n == 0) return;
        int perWindow = WINDOW / d.size();
        // a heap buffer: the JDK reads through one cached direct buffer per thread, whereas a direct buffer per
        // call stays allocated until a garbage collection (streaming a checkpoint piled up 1 GB of them)
        ByteBuffer buf = ByteBuffer.allocate((int) Math.min((long) perWindow * d.size(), n * d.size()))
                .order(ByteOrder.LITTLE_ENDIAN);
        for (long first = 0; first < n; first += perWindow) {
            int count = (int) Math.min(perWindow, n - first);
            buf.clear().limit(count * d.size());
            readAt(t.name(), buf, header.dataStart + t.begin() + first * d.size());
            buf.flip();
            c.accept(buf, first, count);
        }
    }

    private void readAt(String name, ByteBuffer dst, long pos) {
        try {
            SafetensorsHeader.readFully(file, ch, dst, pos);
        } catch (IOException e) {
            throw wrap(file, name, e);
        }
    }

    private Dtype requireInteger(TensorInfo t) {
        Dtype d = header.dtypes.get(t.name());
        if (!d.isInteger()) {
            throw SafetensorsHeader.failTensor(file, t.name(), "is " + d + ", not an integer tensor; use loadFloat");
        }
        return d;
    }

    private int javaArrayLength(TensorInfo t, String what) {
        long n = t.elements();
        if (n > Integer.MAX_VALUE - 8) {
            throw SafetensorsHeader.failTensor(file, t.name(), "has " + n + " elements, too many for " + what
                    + " (a Java array); use loadFloat");
        }
        return (int) n;
    }

    private void checkRank(TensorInfo t) {
        if (t.shape().length > MAX_RANK) {
            throw SafetensorsHeader.failTensor(file, t.name(), "has rank " + t.shape().length
                    + "; ND4J supports at most " + MAX_RANK);
        }
    }

    static long[] cStrides(long[] shape) {
        long[] s = new long[shape.length];
        long acc = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            s[i] = acc;
            acc *= shape[i];
        }
        return s;
    }

    private static void closeQuietly(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // Nothing to recover: the channel was only read.
        }
    }
}
