package io.github.v2a4j.convert;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * The tensors of a Hugging Face checkpoint folder, from safetensors headers only: a sharded
 * {@code *.safetensors.index.json} + its shards, or a single {@code *.safetensors} file. Headers are validated
 * (offsets inside the file, byte length = elements × dtype size); data is never read here.
 */
final class Checkpoint {

    private static final long MAX_HEADER = 100L << 20;

    private Checkpoint() {}

    /** The weight files of a folder, and the index that lists them (null for a single file). */
    record Located(List<Path> files, Path index) {
        Map<String, RawTensor> read() {
            return Checkpoint.read(files, index);
        }
    }

    /**
     * Finds the weights in {@code dir}: {@code preferred + ".index.json"} if present, else {@code preferred}, else the
     * only {@code *.safetensors.index.json}, else the only {@code *.safetensors} file.
     */
    static Located locate(Path dir, String preferred) {
        if (!Files.isDirectory(dir)) throw new ConvertException(dir + ": no such directory");
        Path index = dir.resolve(preferred + ".index.json");
        if (Files.isRegularFile(index)) return new Located(shardsOf(index), index);
        Path single = dir.resolve(preferred);
        if (Files.isRegularFile(single)) return new Located(List.of(single), null);
        List<Path> indexes = list(dir, ".safetensors.index.json");
        if (indexes.size() == 1) return new Located(shardsOf(indexes.get(0)), indexes.get(0));
        List<Path> files = list(dir, ".safetensors");
        if (indexes.isEmpty() && files.size() == 1) return new Located(files, null);
        throw new ConvertException(dir + ": cannot tell which weights to use: expected " + preferred + " or "
                + preferred + ".index.json, found " + (indexes.isEmpty() && files.isEmpty() ? "no safetensors files"
                : "indexes " + names(indexes) + " and files " + names(files)));
    }

    /** Reads all headers of the files; for an index, also checks that the index and the shards agree. */
    static Map<String, RawTensor> read(List<Path> files, Path index) {
        Map<String, RawTensor> all = new LinkedHashMap<>();
        for (Path f : files) {
            for (RawTensor t : readHeader(f)) {
                RawTensor prev = all.put(t.name(), t);
                if (prev != null) throw new ConvertException(f + ": tensor " + t.name() + " also in " + prev.file());
            }
        }
        if (index != null) {
            Map<String, String> map = weightMap(index);
            List<String> problems = new ArrayList<>();
            for (Map.Entry<String, String> e : map.entrySet()) {
                RawTensor t = all.get(e.getKey());
                if (t == null) problems.add(e.getKey() + " (listed for " + e.getValue() + ", not in any shard)");
                else if (!t.file().getFileName().toString().equals(e.getValue())) {
                    problems.add(e.getKey() + " (listed for " + e.getValue() + ", found in " + t.file().getFileName() + ")");
                }
            }
            for (String n : all.keySet()) if (!map.containsKey(n)) problems.add(n + " (in a shard, not in the index)");
            if (!problems.isEmpty()) {
                throw new ConvertException(index + ": index and shards disagree on " + problems.size() + " tensors: "
                        + String.join(", ", problems));
            }
        }
        return all;
    }

    static List<RawTensor> readHeader(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) throw new ConvertException(file + ": not a safetensors file (" + size + " bytes)");
            ByteBuffer lb = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lb, 0);
            long n = lb.flip().getLong();
            if (n <= 0 || n > MAX_HEADER || 8 + n > size) {
                throw new ConvertException(file + ": not a safetensors file (header length " + n + ", file " + size + " bytes)");
            }
            ByteBuffer hb = ByteBuffer.allocate((int) n);
            readFully(ch, hb, 8);
            JsonElement root;
            try {
                root = JsonParser.parseString(new String(hb.array(), StandardCharsets.UTF_8));
            } catch (RuntimeException e) {
                throw new ConvertException(file + ": safetensors header is not valid JSON", e);
            }
            if (!root.isJsonObject()) throw new ConvertException(file + ": safetensors header is not a JSON object");
            long base = 8 + n;
            List<RawTensor> out = new ArrayList<>();
            for (Map.Entry<String, JsonElement> e : root.getAsJsonObject().entrySet()) {
                if (e.getKey().equals("__metadata__")) continue;
                out.add(tensor(file, e.getKey(), e.getValue(), base, size));
            }
            return out;
        } catch (IOException e) {
            throw new ConvertException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
    }

    private static RawTensor tensor(Path file, String name, JsonElement el, long base, long size) {
        try {
            JsonObject o = el.getAsJsonObject();
            String dtype = o.get("dtype").getAsString();
            var sa = o.getAsJsonArray("shape");
            long[] shape = new long[sa.size()];
            long elems = 1;
            for (int i = 0; i < shape.length; i++) {
                shape[i] = sa.get(i).getAsLong();
                if (shape[i] < 0) throw new IllegalArgumentException("negative dimension");
                elems = Math.multiplyExact(elems, shape[i]);
            }
            var off = o.getAsJsonArray("data_offsets");
            long b = off.get(0).getAsLong();
            long e = off.get(1).getAsLong();
            int es = Dtypes.size(dtype);
            if (es < 0) throw new IllegalArgumentException("unknown dtype " + dtype);
            if (b < 0 || e < b || base + e > size) throw new IllegalArgumentException("data_offsets [" + b + "," + e + "] outside the file");
            if (e - b != elems * es) throw new IllegalArgumentException((e - b) + " bytes for " + elems + " " + dtype + " elements");
            return new RawTensor(name, file, dtype, shape, base + b, e - b);
        } catch (RuntimeException ex) {
            throw new ConvertException(file + ": bad header entry for tensor " + name + ": " + ex.getMessage(), ex);
        }
    }

    private static Map<String, String> weightMap(Path index) {
        JsonObject o = ConfigSymbols.readJson(index);
        if (!o.has("weight_map") || !o.get("weight_map").isJsonObject()) {
            throw new ConvertException(index + ": no weight_map");
        }
        Map<String, String> m = new LinkedHashMap<>();
        for (var e : o.getAsJsonObject("weight_map").entrySet()) m.put(e.getKey(), e.getValue().getAsString());
        return m;
    }

    private static List<Path> shardsOf(Path index) {
        Path dir = index.getParent();
        List<Path> shards = new ArrayList<>();
        for (String f : new TreeSet<>(weightMap(index).values())) {
            Path p = dir.resolve(f);
            if (!Files.isRegularFile(p)) throw new ConvertException(index + ": shard " + f + " is missing");
            shards.add(p);
        }
        if (shards.isEmpty()) throw new ConvertException(index + ": weight_map is empty");
        return shards;
    }

    private static List<Path> list(Path dir, String suffix) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(suffix) && Files.isRegularFile(p)).sorted().toList();
        } catch (IOException e) {
            throw new ConvertException(dir + ": cannot list (" + e.getMessage() + ")", e);
        }
    }

    private static String names(List<Path> ps) {
        return ps.stream().map(p -> p.getFileName().toString()).toList().toString();
    }

    static void readFully(FileChannel ch, ByteBuffer b, long pos) throws IOException {
        while (b.hasRemaining()) {
            int r = ch.read(b, pos);
            if (r < 0) throw new IOException("unexpected end of file");
            pos += r;
        }
    }
}
