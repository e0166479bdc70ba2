package io.github.v2a4j.io;

import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import com.google.gson.stream.MalformedJsonException;
import java.io.EOFException;
import java.io.IOException;
import java.io.Reader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Consumer;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Several safetensors files seen as one checkpoint: the shards of a Hugging Face {@code *.safetensors.index.json}
 * ({@code weight_map}: tensor name → shard file), or every {@code *.safetensors} file of a directory. Each tensor
 * comes from exactly one file; every lookup is delegated to it.
 */
public final class ShardedSafetensors extends Safetensors {

    /** Index names in the order they are preferred when a directory holds several (variants like .fp16 come last). */
    private static final List<String> PREFERRED_INDEXES = List.of(
            "model.safetensors.index.json", "diffusion_pytorch_model.safetensors.index.json");

    private final Path origin;
    private final List<SafetensorsFile> files;
    private final Map<String, SafetensorsFile> byName;

    private ShardedSafetensors(Path origin, List<SafetensorsFile> files, Map<String, SafetensorsFile> byName) {
        this.origin = origin;
        this.files = files;
        this.byName = byName;
    }

    /** The directory's index if it has one, otherwise all of its {@code *.safetensors} files. */
    public static ShardedSafetensors openDirectory(Path dir) {
        List<Path> indexes = new ArrayList<>();
        List<Path> shards = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                String n = p.getFileName().toString();
                if (n.endsWith(".safetensors.index.json")) indexes.add(p);
                else if (n.endsWith(".safetensors") && Files.isRegularFile(p)) shards.add(p);
            }
        } catch (NoSuchFileException e) {
            throw new SafetensorsException(dir + ": no such directory");
        } catch (IOException e) {
            throw wrap(dir, null, e);
        }
        for (String preferred : PREFERRED_INDEXES) {
            Path p = dir.resolve(preferred);
            if (indexes.contains(p)) return openIndex(p);
        }
        if (indexes.size() == 1) return openIndex(indexes.get(0));
        if (indexes.size() > 1) {
            throw new SafetensorsException(dir + ": several safetensors indexes, open one of them: " + indexes);
        }
        if (shards.isEmpty()) throw new SafetensorsException(dir + ": no *.safetensors file and no index");
        shards.sort(null);
        List<SafetensorsFile> files = new ArrayList<>();
        Map<String, SafetensorsFile> byName = new TreeMap<>();
        try {
            for (Path p : shards) {
                SafetensorsFile f = SafetensorsFile.open(p);
                files.add(f);
                for (String name : f.names()) {
                    SafetensorsFile prev = byName.putIfAbsent(name, f);
                    if (prev != null) {
                        throw new SafetensorsException(dir + ": tensor '" + name + "' is in both " + prev.file()
                                .getFileName() + " and " + p.getFileName());
                    }
                }
            }
        } catch (RuntimeException e) {
            files.forEach(SafetensorsFile::close);
            throw e;
        }
        return new ShardedSafetensors(dir, files, byName);
    }

    /** Opens the shards named by a Hugging Face index and checks that each holds the tensors assigned to it. */
    public static ShardedSafetensors openIndex(Path index) {
        Map<String, String> weightMap = readWeightMap(index);
        Path dir = index.toAbsolutePath().getParent();
        Map<String, List<String>> byShard = new TreeMap<>();
        weightMap.forEach((tensor, shard) -> byShard.computeIfAbsent(shard, s -> new ArrayList<>()).add(tensor));
        List<SafetensorsFile> files = new ArrayList<>();
        Map<String, SafetensorsFile> byName = new TreeMap<>();
        try {
            for (Map.Entry<String, List<String>> e : byShard.entrySet()) {
                String shard = e.getKey();
                List<String> tensors = e.getValue();
                Path p = dir.resolve(shard).normalize();
                if (!p.startsWith(dir.normalize()) || !p.getParent().equals(dir.normalize())) {
                    throw new SafetensorsException(index + ": shard '" + shard + "' is not a file next to the index");
                }
                if (!Files.isRegularFile(p)) {
                    throw new SafetensorsException(index + ": shard file '" + shard + "' (holding '" + tensors.get(0)
                            + "'" + (tensors.size() > 1 ? " and " + (tensors.size() - 1) + " more" : "")
                            + ") does not exist");
                }
                SafetensorsFile f = SafetensorsFile.open(p);
                files.add(f);
                for (String t : tensors) {
                    if (!f.contains(t)) {
                        throw new SafetensorsException(index + ": assigns tensor '" + t + "' to " + shard
                                + ", which does not contain it");
                    }
                    byName.put(t, f);
                }
            }
        } catch (RuntimeException e) {
            files.forEach(SafetensorsFile::close);
            throw e;
        }
        return new ShardedSafetensors(index, files, byName);
    }

    /** Streams the index so a duplicate tensor name is caught (a JSON object model would keep only the last). */
    private static Map<String, String> readWeightMap(Path index) {
        Map<String, String> weightMap = null;
        try (Reader in = Files.newBufferedReader(index, StandardCharsets.UTF_8)) {
            JsonReader r = new JsonReader(in);
            r.setStrictness(Strictness.STRICT);
            if (r.peek() != JsonToken.BEGIN_OBJECT) throw new SafetensorsException(index + ": index is not a JSON object");
            r.beginObject();
            while (r.hasNext()) {
                String key = r.nextName();
                if (!key.equals("weight_map")) {
                    r.skipValue();
                    continue;
                }
                if (weightMap != null) throw new SafetensorsException(index + ": duplicate key 'weight_map'");
                if (r.peek() != JsonToken.BEGIN_OBJECT) {
                    throw new SafetensorsException(index + ": weight_map is not a JSON object");
                }
                weightMap = new LinkedHashMap<>();
                r.beginObject();
                while (r.hasNext()) {
                    String tensor = r.nextName();
                    if (weightMap.containsKey(tensor)) {
                        throw new SafetensorsException(index + ": duplicate tensor '" + tensor + "' in weight_map");
                    }
                    if (r.peek() != JsonToken.STRING) {
                        throw new SafetensorsException(index + ": weight_map entry '" + tensor + "' is not a file name");
                    }
                    weightMap.put(tensor, r.nextString());
                }
                r.endObject();
            }
            r.endObject();
            if (!SafetensorsHeader.atEnd(r)) {
                throw new SafetensorsException(index + ": unexpected data after the index's JSON object");
            }
        } catch (NoSuchFileException e) {
            throw new SafetensorsException(index + ": no such file");
        } catch (MalformedJsonException | EOFException | IllegalStateException | NumberFormatException e) {
            throw new SafetensorsException(index + ": malformed JSON index: " + SafetensorsHeader.gsonMessage(e));
        } catch (IOException e) {
            throw wrap(index, null, e);
        }
        if (weightMap == null) throw new SafetensorsException(index + ": index has no weight_map");
        return weightMap;
    }

    /** The shard files, in the order they were opened. */
    public List<SafetensorsFile> files() {
        return files;
    }

    /** The file holding {@code name}; throws naming the checkpoint if no shard has it. */
    public SafetensorsFile shard(String name) {
        SafetensorsFile f = byName.get(name);
        if (f == null) throw new SafetensorsException(origin + ": no tensor '" + name + "'");
        return f;
    }

    @Override
    public Map<String, String> metadata() {
        return files.isEmpty() ? Map.of() : files.get(0).metadata();
    }

    @Override
    public SortedSet<String> names() {
        return new TreeSet<>(byName.keySet());
    }

    @Override
    public boolean contains(String name) {
        return byName.containsKey(name);
    }

    @Override
    public TensorInfo info(String name) {
        return shard(name).info(name);
    }

    @Override
    public INDArray mapped(String name) {
        return shard(name).mapped(name);
    }

    @Override
    public INDArray mappedAsStored(String name) {
        return shard(name).mappedAsStored(name);
    }

    @Override
    public INDArray loadFloat(String name) {
        return shard(name).loadFloat(name);
    }

    @Override
    public INDArray rows(String name, long[] rows) {
        return shard(name).rows(name, rows);
    }

    @Override
    public float[] getFloat(String name) {
        return shard(name).getFloat(name);
    }

    @Override
    public long[] loadLong(String name) {
        return shard(name).loadLong(name);
    }

    @Override
    public int[] loadInt(String name) {
        return shard(name).loadInt(name);
    }

    @Override
    public byte[] loadBytes(String name) {
        return shard(name).loadBytes(name);
    }

    @Override
    public ByteBuffer mappedBytes(String name) {
        return shard(name).mappedBytes(name);
    }

    @Override
    public void prefetch(Iterable<String> names) {
        for (String name : names) {
            SafetensorsFile f = byName.get(name);
            if (f != null) f.prefetch(List.of(name));
        }
    }

    @Override
    public void stream(String name, Dtype to, Consumer<ByteBuffer> sink) {
        shard(name).stream(name, to, sink);
    }

    @Override
    public void close() {
        files.forEach(SafetensorsFile::close);
    }

    @Override
    public String toString() {
        return origin.toString();
    }
}
