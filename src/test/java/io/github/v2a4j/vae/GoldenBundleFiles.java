package io.github.v2a4j.vae;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Stopgap reader for the small golden bundle files (F32 / U8 / I64 tensors into memory), used until the io
 * package's safetensors reader is on main; then the golden test should open the bundle through it.
 */
final class GoldenBundleFiles {
    private GoldenBundleFiles() {}

    static Map<String, INDArray> read(Path file) throws IOException {
        ByteBuffer all = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        long headerLen = all.getLong(0);
        String json = new String(all.array(), 8, (int) headerLen, StandardCharsets.UTF_8);
        int dataStart = 8 + (int) headerLen;
        JsonObject header = JsonParser.parseString(json).getAsJsonObject();
        Map<String, INDArray> out = new LinkedHashMap<>();
        for (Map.Entry<String, JsonElement> e : header.entrySet()) {
            if (e.getKey().equals("__metadata__")) continue;
            JsonObject t = e.getValue().getAsJsonObject();
            long[] shape = new long[t.getAsJsonArray("shape").size()];
            for (int i = 0; i < shape.length; i++) shape[i] = t.getAsJsonArray("shape").get(i).getAsLong();
            int begin = dataStart + t.getAsJsonArray("data_offsets").get(0).getAsInt();
            int end = dataStart + t.getAsJsonArray("data_offsets").get(1).getAsInt();
            String dtype = t.get("dtype").getAsString();
            INDArray a;
            switch (dtype) {
                case "F32" -> {
                    float[] v = new float[(end - begin) / 4];
                    all.slice(begin, end - begin).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(v);
                    a = Nd4j.createFromArray(v);
                }
                case "U8" -> {
                    int[] v = new int[end - begin];
                    for (int i = 0; i < v.length; i++) v[i] = all.get(begin + i) & 0xff;
                    a = Nd4j.createFromArray(v);
                }
                case "I64" -> {
                    long[] v = new long[(end - begin) / 8];
                    all.slice(begin, end - begin).order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(v);
                    a = Nd4j.createFromArray(v);
                }
                default -> throw new IOException(file + ": tensor " + e.getKey() + " has unsupported dtype " + dtype);
            }
            out.put(e.getKey(), shape.length == 0 ? a.reshape() : a.reshape('c', shape));
        }
        return out;
    }

    static JsonObject json(Path file) throws IOException {
        return JsonParser.parseString(Files.readString(file)).getAsJsonObject();
    }
}
