package io.github.v2a4j.synthetic;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import io.github.v2a4j.io.Dtype;
import io.github.v2a4j.io.SafetensorsStreamWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Writes synthetic weights as safetensors files, one tensor at a time in pieces of {@value #PIECE} elements: a
 * checkpoint of any size is written in a few MB of memory.
 */
public final class SyntheticCheckpoint {
    private SyntheticCheckpoint() {}

    private static final int PIECE = 1 << 20;

    /** One file holding {@code shapes}, float values written as {@code dtype} (F32 or BF16). Returns data bytes. */
    public static long write(Path file, Map<String, long[]> shapes, Dtype dtype, SyntheticWeights weights) {
        Map<String, SafetensorsStreamWriter.Spec> specs = new LinkedHashMap<>();
        long bytes = 0;
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            SafetensorsStreamWriter.Spec s = new SafetensorsStreamWriter.Spec(dtype, e.getValue());
            specs.put(e.getKey(), s);
            bytes += s.bytes();
        }
        float[] values = new float[PIECE];
        ByteBuffer piece = ByteBuffer.allocate(PIECE * dtype.size()).order(ByteOrder.LITTLE_ENDIAN);
        try (SafetensorsStreamWriter w = new SafetensorsStreamWriter(file, specs, Map.of("format", "pt"))) {
            for (String name : w.dataOrder()) {
                long[] shape = shapes.get(name);
                long n = 1;
                for (long d : shape) n *= d;
                for (long first = 0; first < n; first += PIECE) {
                    int count = (int) Math.min(PIECE, n - first);
                    weights.fill(name, shape, first, values, 0, count);
                    piece.clear();
                    dtype.fromFloat(values, 0, count, piece);
                    w.append(name, piece.flip());
                }
            }
            w.commit();
        }
        return bytes;
    }

    /**
     * The shards {@code stem-0000i-of-0000n.safetensors} and their Hugging Face index
     * {@code stem.safetensors.index.json} ({@code metadata.total_size}, {@code weight_map}).
     */
    public static void writeSharded(Path dir, String stem, List<Map<String, long[]>> shards, Dtype dtype,
                                    SyntheticWeights weights) {
        JsonObject weightMap = new JsonObject();
        long total = 0;
        for (int i = 0; i < shards.size(); i++) {
            String file = String.format(Locale.ROOT, "%s-%05d-of-%05d.safetensors", stem, i + 1, shards.size());
            total += write(dir.resolve(file), shards.get(i), dtype, weights);
            for (String name : shards.get(i).keySet()) weightMap.addProperty(name, file);
        }
        JsonObject meta = new JsonObject();
        meta.addProperty("total_size", total);
        JsonObject index = new JsonObject();
        index.add("metadata", meta);
        index.add("weight_map", weightMap);
        try {
            Files.writeString(dir.resolve(stem + ".safetensors.index.json"),
                    new GsonBuilder().setPrettyPrinting().create().toJson(index) + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the index in " + dir, e);
        }
    }
}
