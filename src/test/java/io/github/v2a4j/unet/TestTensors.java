package io.github.v2a4j.unet;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeSet;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Test helpers: a minimal safetensors reader (F32 and I64, copied into memory), so the golden tests do not depend on
 * the io package's reader.
 */
public final class TestTensors {
    private TestTensors() {}

    public static Map<String, INDArray> read(Path file) {
        try {
            byte[] all = Files.readAllBytes(file);
            ByteBuffer bb = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
            long n = bb.getLong(0);
            String json = new String(all, 8, (int) n, java.nio.charset.StandardCharsets.UTF_8);
            JsonObject h = JsonParser.parseString(json).getAsJsonObject();
            int base = 8 + (int) n;
            Map<String, INDArray> out = new LinkedHashMap<>();
            for (String name : new TreeSet<>(h.keySet())) {
                if (name.equals("__metadata__")) continue;
                JsonObject t = h.getAsJsonObject(name);
                var sh = t.getAsJsonArray("shape");
                long[] shape = new long[sh.size()];
                for (int i = 0; i < shape.length; i++) shape[i] = sh.get(i).getAsLong();
                var off = t.getAsJsonArray("data_offsets");
                int begin = base + off.get(0).getAsInt();
                int end = base + off.get(1).getAsInt();
                String dtype = t.get("dtype").getAsString();
                ByteBuffer data = ByteBuffer.wrap(all, begin, end - begin).slice().order(ByteOrder.LITTLE_ENDIAN);
                switch (dtype) {
                    case "F32" -> {
                        float[] f = new float[(end - begin) / 4];
                        data.asFloatBuffer().get(f);
                        out.put(name, Nd4j.create(f, shape, 'c'));
                    }
                    case "I64" -> {
                        long[] l = new long[(end - begin) / 8];
                        data.asLongBuffer().get(l);
                        out.put(name, Nd4j.createFromArray(l).reshape(shape));
                    }
                    default -> throw new IllegalArgumentException(file + ": dtype " + dtype + " of " + name);
                }
            }
            return out;
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + file, e);
        }
    }

    /** Max |a − b| relative to max |b| (0 when both are zero). */
    public static double relErr(INDArray got, INDArray ref) {
        INDArray g = got.castTo(DataType.DOUBLE).reshape(ref.shape());
        INDArray r = ref.castTo(DataType.DOUBLE);
        double maxRef = r.amaxNumber().doubleValue();
        double diff = g.sub(r).amaxNumber().doubleValue();
        return maxRef == 0 ? diff : diff / maxRef;
    }
}
