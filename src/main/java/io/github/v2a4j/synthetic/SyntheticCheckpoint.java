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
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.LongConsumer;

/**
 * Writes synthetic weights as safetensors files, streaming: pieces of {@value #PIECE} elements are made on every
 * core, a few ahead of the calling thread, which writes them in file order. Memory stays at a few pieces per core
 * whatever the checkpoint's size, and making values (about 290 MB/s of bf16 per core) overlaps the writing.
 */
public final class SyntheticCheckpoint {
    private SyntheticCheckpoint() {}

    private static final int PIECE = 1 << 20;

    /** One piece of one tensor: elements {@code [first, first + count)}. */
    private record Piece(String name, long[] shape, long first, int count) {}

    /** One file holding {@code shapes}, float values written as {@code dtype} (F32 or BF16). Returns data bytes. */
    public static long write(Path file, Map<String, long[]> shapes, Dtype dtype, SyntheticWeights weights) {
        return write(file, shapes, dtype, weights, n -> {});
    }

    /** As above, telling {@code written} the bytes of every piece once it is written. */
    public static long write(Path file, Map<String, long[]> shapes, Dtype dtype, SyntheticWeights weights,
                             LongConsumer written) {
        Map<String, SafetensorsStreamWriter.Spec> specs = new LinkedHashMap<>();
        long bytes = 0;
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            SafetensorsStreamWriter.Spec s = new SafetensorsStreamWriter.Spec(dtype, e.getValue());
            specs.put(e.getKey(), s);
            bytes += s.bytes();
        }
        int threads = Math.max(1, Runtime.getRuntime().availableProcessors());
        int depth = 2 * threads + 2;
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "synthetic-weights");
            t.setDaemon(true);
            return t;
        });
        ThreadLocal<float[]> values = ThreadLocal.withInitial(() -> new float[PIECE]);
        try (SafetensorsStreamWriter w = new SafetensorsStreamWriter(file, specs, Map.of("format", "pt"))) {
            List<Piece> pieces = new ArrayList<>();
            for (String name : w.dataOrder()) {
                long[] shape = shapes.get(name);
                long n = 1;
                for (long d : shape) n *= d;
                for (long first = 0; first < n; first += PIECE) {
                    pieces.add(new Piece(name, shape, first, (int) Math.min(PIECE, n - first)));
                }
            }
            // piece j is made into buffers[j % depth] once piece j - depth, which used that buffer, is written
            ByteBuffer[] buffers = new ByteBuffer[depth];
            @SuppressWarnings("unchecked")
            Future<?>[] made = new Future[depth];
            for (int j = 0; j < pieces.size() + depth; j++) {
                int slot = j % depth;
                if (j >= depth) {
                    Piece p = pieces.get(j - depth);
                    await(made[slot], file);
                    w.append(p.name(), buffers[slot].flip());
                    written.accept((long) p.count() * dtype.size());
                }
                if (j < pieces.size()) {
                    if (buffers[slot] == null) {
                        buffers[slot] = ByteBuffer.allocateDirect(PIECE * dtype.size()).order(ByteOrder.LITTLE_ENDIAN);
                    }
                    Piece p = pieces.get(j);
                    ByteBuffer out = buffers[slot].clear();
                    made[slot] = pool.submit(() -> {
                        float[] v = values.get();
                        weights.fill(p.name(), p.shape(), p.first(), v, 0, p.count());
                        dtype.fromFloat(v, 0, p.count(), out);
                    });
                }
            }
            w.commit();
        } finally {
            pool.shutdownNow();
        }
        return bytes;
    }

    private static void await(Future<?> f, Path file) {
        try {
            f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(file + ": interrupted while making synthetic weights", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException(file + ": making synthetic weights failed: " + e.getCause(), e.getCause());
        }
    }

    /**
     * The shards {@code stem-0000i-of-0000n.safetensors} and their Hugging Face index
     * {@code stem.safetensors.index.json} ({@code metadata.total_size}, {@code weight_map}).
     */
    public static void writeSharded(Path dir, String stem, List<Map<String, long[]>> shards, Dtype dtype,
                                    SyntheticWeights weights) {
        writeSharded(dir, stem, shards, dtype, weights, n -> {});
    }

    /**
     * As above; an empty map in {@code shards} is a shard this checkpoint does not have (its number is kept, so the
     * others keep their published file names).
     */
    public static void writeSharded(Path dir, String stem, List<Map<String, long[]>> shards, Dtype dtype,
                                    SyntheticWeights weights, LongConsumer written) {
        JsonObject weightMap = new JsonObject();
        long total = 0;
        for (int i = 0; i < shards.size(); i++) {
            if (shards.get(i).isEmpty()) continue;
            String file = shardName(stem, i, shards.size());
            total += write(dir.resolve(file), shards.get(i), dtype, weights, written);
            for (String name : shards.get(i).keySet()) weightMap.addProperty(name, file);
        }
        JsonObject meta = new JsonObject();
        meta.addProperty("total_size", total);
        JsonObject index = new JsonObject();
        index.add("metadata", meta);
        index.add("weight_map", sorted(weightMap));
        try {
            Files.writeString(dir.resolve(stem + ".safetensors.index.json"),
                    new GsonBuilder().setPrettyPrinting().create().toJson(index) + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the index in " + dir, e);
        }
    }

    /** {@code stem-0000i-of-0000n.safetensors} for shard {@code i} (from 0) of {@code n}. */
    public static String shardName(String stem, int i, int n) {
        return String.format(Locale.ROOT, "%s-%05d-of-%05d.safetensors", stem, i + 1, n);
    }

    /** Hugging Face writes the weight map sorted by tensor name. */
    private static JsonObject sorted(JsonObject o) {
        JsonObject s = new JsonObject();
        o.keySet().stream().sorted().forEach(k -> s.add(k, o.get(k)));
        return s;
    }
}
