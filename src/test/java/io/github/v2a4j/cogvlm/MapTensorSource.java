package io.github.v2a4j.cogvlm;

import io.github.v2a4j.io.SafetensorsException;
import io.github.v2a4j.io.TensorInfo;
import io.github.v2a4j.io.TensorSource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeSet;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Test-only in-memory {@link TensorSource} over a map of arrays, optionally filled from a safetensors file (a
 * minimal reader of the documented format: u64-LE header length, JSON header, little-endian data). Any entry can be
 * labelled with another dtype, so that the conversion path of a bf16 checkpoint runs on the tiny F32 weights.
 */
final class MapTensorSource implements TensorSource {

    private final Map<String, INDArray> arrays = new LinkedHashMap<>();
    private final Map<String, TensorInfo> infos = new LinkedHashMap<>();

    /** Arrays handed out by {@link #mapped} for non-F32 entries (fresh conversions, as a real source makes them). */
    final java.util.List<INDArray> converted = new java.util.ArrayList<>();

    void put(String name, INDArray a, String dtype) {
        arrays.put(name, a);
        infos.put(name, new TensorInfo(name, null, dtype, a.shape(), 0, 0));
    }

    static MapTensorSource read(Path file) {
        MapTensorSource s = new MapTensorSource();
        try {
            byte[] all = Files.readAllBytes(file);
            ByteBuffer b = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
            long n = b.getLong();
            String header = new String(all, 8, (int) n, java.nio.charset.StandardCharsets.UTF_8);
            int data = 8 + (int) n;
            var json = com.google.gson.JsonParser.parseString(header).getAsJsonObject();
            for (String name : json.keySet()) {
                if (name.equals("__metadata__")) continue;
                var t = json.getAsJsonObject(name);
                String dtype = t.get("dtype").getAsString();
                var shapeJ = t.getAsJsonArray("shape");
                long[] shape = new long[shapeJ.size()];
                for (int i = 0; i < shape.length; i++) shape[i] = shapeJ.get(i).getAsLong();
                long begin = t.getAsJsonArray("data_offsets").get(0).getAsLong();
                long end = t.getAsJsonArray("data_offsets").get(1).getAsLong();
                int count = 1;
                for (long d : shape) count *= (int) d;
                ByteBuffer v = ByteBuffer.wrap(all, data + (int) begin, (int) (end - begin)).slice().order(ByteOrder.LITTLE_ENDIAN);
                INDArray a;
                switch (dtype) {
                    case "F32" -> {
                        float[] f = new float[count];
                        v.asFloatBuffer().get(f);
                        a = Nd4j.create(f, shape, 'c');
                    }
                    case "I64" -> {
                        long[] l = new long[count];
                        v.asLongBuffer().get(l);
                        a = Nd4j.createFromArray(l).reshape(shape);
                    }
                    case "U8", "BOOL" -> {
                        int[] u = new int[count];
                        for (int i = 0; i < count; i++) u[i] = v.get(i) & 0xff;
                        a = Nd4j.createFromArray(u).reshape(shape);
                    }
                    default -> throw new SafetensorsException(file + ": test reader does not support dtype " + dtype + " of " + name);
                }
                s.arrays.put(name, a);
                s.infos.put(name, new TensorInfo(name, file, dtype, shape, begin, end));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return s;
    }

    @Override
    public SortedSet<String> names() {
        return new TreeSet<>(arrays.keySet());
    }

    @Override
    public boolean contains(String name) {
        return arrays.containsKey(name);
    }

    @Override
    public TensorInfo info(String name) {
        TensorInfo i = infos.get(name);
        if (i == null) throw new SafetensorsException("no tensor " + name);
        return i;
    }

    @Override
    public INDArray mapped(String name) {
        INDArray a = arrays.get(name);
        if (a == null) throw new SafetensorsException("no tensor " + name);
        if (!infos.get(name).dtype().equals("F32")) {
            INDArray c = a.castTo(DataType.FLOAT).dup();
            converted.add(c);
            return c;
        }
        return a;
    }

    @Override
    public INDArray loadFloat(String name) {
        return mapped(name).dup();
    }

    /** The stored array in its own dtype (ints stay ints). */
    INDArray raw(String name) {
        INDArray a = arrays.get(name);
        if (a == null) throw new SafetensorsException("no tensor " + name);
        return a;
    }

    @Override
    public void close() {}

    @Override
    public String toString() {
        return "test tensors";
    }
}
