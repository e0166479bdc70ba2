package io.github.v2a4j.io;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.BiConsumer;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Collects named tensors and writes them as one safetensors file (layout and atomicity: see
 * {@link SafetensorsStreamWriter}). Arrays are referenced, not copied: their data is read by {@link #write}.
 *
 * <pre>{@code
 * new SafetensorsWriter().metadata("format", "pt").put("w", weight).putLong("ids", ids, 1, 7).write(path);
 * }</pre>
 */
public final class SafetensorsWriter {

    private record Pending(SafetensorsStreamWriter.Spec spec, BiConsumer<SafetensorsStreamWriter, String> data) {}

    private final Map<String, Pending> tensors = new TreeMap<>();
    private final Map<String, String> metadata = new TreeMap<>();

    public SafetensorsWriter metadata(String key, String value) {
        metadata.put(key, value);
        return this;
    }

    /** An INDArray in its own data type (FLOAT → F32, LONG → I64, ...), c-order. */
    public SafetensorsWriter put(String name, INDArray a) {
        Dtype d = SafetensorsStreamWriter.dtypeOf(a.dataType());
        return add(name, d, a.shape(), (w, n) -> w.write(n, a));
    }

    public SafetensorsWriter putFloat(String name, float[] data, long... shape) {
        checkLength(name, data.length, shape);
        return add(name, Dtype.F32, shape, (w, n) -> {
            ByteBuffer b = le(4L * data.length);
            b.asFloatBuffer().put(data);
            w.append(n, b);
        });
    }

    public SafetensorsWriter putLong(String name, long[] data, long... shape) {
        checkLength(name, data.length, shape);
        return add(name, Dtype.I64, shape, (w, n) -> {
            ByteBuffer b = le(8L * data.length);
            b.asLongBuffer().put(data);
            w.append(n, b);
        });
    }

    public SafetensorsWriter putInt(String name, int[] data, long... shape) {
        checkLength(name, data.length, shape);
        return add(name, Dtype.I32, shape, (w, n) -> {
            ByteBuffer b = le(4L * data.length);
            b.asIntBuffer().put(data);
            w.append(n, b);
        });
    }

    /** Any dtype from its little-endian bytes. */
    public SafetensorsWriter putRaw(String name, Dtype dtype, byte[] littleEndian, long... shape) {
        long bytes = new SafetensorsStreamWriter.Spec(dtype, shape).bytes();
        if (bytes != littleEndian.length) {
            throw new IllegalArgumentException("tensor '" + name + "': shape " + Arrays.toString(shape) + " of "
                    + dtype + " needs " + bytes + " bytes, got " + littleEndian.length);
        }
        return add(name, dtype, shape, (w, n) -> w.append(n, ByteBuffer.wrap(littleEndian)));
    }

    /** Writes every tensor to {@code file} (through a temporary file renamed into place). */
    public void write(Path file) {
        Map<String, SafetensorsStreamWriter.Spec> specs = new LinkedHashMap<>();
        tensors.forEach((n, p) -> specs.put(n, p.spec));
        try (SafetensorsStreamWriter w = new SafetensorsStreamWriter(file, specs, metadata)) {
            for (String n : w.dataOrder()) tensors.get(n).data.accept(w, n);
            w.commit();
        }
    }

    private SafetensorsWriter add(String name, Dtype d, long[] shape,
                                  BiConsumer<SafetensorsStreamWriter, String> data) {
        if (tensors.containsKey(name)) throw new IllegalArgumentException("tensor '" + name + "' added twice");
        tensors.put(name, new Pending(new SafetensorsStreamWriter.Spec(d, shape.clone()), data));
        return this;
    }

    private static void checkLength(String name, int length, long[] shape) {
        long n = 1;
        for (long d : shape) n *= d;
        if (n != length) {
            throw new IllegalArgumentException("tensor '" + name + "': shape " + Arrays.toString(shape) + " has " + n
                    + " elements, data has " + length);
        }
    }

    private static ByteBuffer le(long bytes) {
        return ByteBuffer.allocate(Math.toIntExact(bytes)).order(ByteOrder.LITTLE_ENDIAN);
    }
}
