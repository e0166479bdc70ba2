package io.github.v2a4j.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * A checkpoint in the safetensors format: one file ({@link SafetensorsFile}) or several ({@link ShardedSafetensors}).
 * Besides the {@link TensorSource} view it gives raw access in the stored dtype, for integer tensors (token ids,
 * U8 images) and for the converter.
 */
public abstract class Safetensors implements TensorSource {

    /**
     * Opens a single {@code .safetensors} file, a {@code *.safetensors.index.json} index, or a directory (its index
     * if it has one, otherwise every {@code *.safetensors} file in it).
     */
    public static Safetensors open(Path path) {
        if (Files.isDirectory(path)) return ShardedSafetensors.openDirectory(path);
        if (!Files.exists(path)) throw new SafetensorsException(path + ": no such file or directory");
        if (path.getFileName().toString().endsWith(".index.json")) return ShardedSafetensors.openIndex(path);
        return SafetensorsFile.open(path);
    }

    /**
     * The weights of a Hugging Face model folder: {@code weightsName + ".index.json"} with its shards if present,
     * else the file {@code weightsName}, else the folder's only {@code *.safetensors.index.json}, else its only
     * {@code *.safetensors} file. Variants beside them (such as {@code *.fp16.safetensors}) are not read.
     */
    public static Safetensors openFolder(Path dir, String weightsName) {
        if (!Files.isDirectory(dir)) throw new SafetensorsException(dir + ": no such directory");
        Path index = dir.resolve(weightsName + ".index.json");
        if (Files.isRegularFile(index)) return ShardedSafetensors.openIndex(index);
        Path single = dir.resolve(weightsName);
        if (Files.isRegularFile(single)) return SafetensorsFile.open(single);
        List<Path> indexes = list(dir, ".safetensors.index.json");
        if (indexes.size() == 1) return ShardedSafetensors.openIndex(indexes.get(0));
        List<Path> files = list(dir, ".safetensors");
        if (indexes.isEmpty() && files.size() == 1) return SafetensorsFile.open(files.get(0));
        throw new SafetensorsException(dir + ": cannot tell which weights to read: expected " + weightsName + " or "
                + weightsName + ".index.json, found " + (indexes.isEmpty() && files.isEmpty() ? "no safetensors files"
                : "indexes " + names(indexes) + " and files " + names(files)));
    }

    private static List<Path> list(Path dir, String suffix) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(suffix) && Files.isRegularFile(p)).sorted().toList();
        } catch (IOException e) {
            throw wrap(dir, null, e);
        }
    }

    private static List<String> names(List<Path> paths) {
        return paths.stream().map(p -> p.getFileName().toString()).toList();
    }

    /** The {@code __metadata__} strings (of the index's first shard for a sharded checkpoint); empty if none. */
    public abstract Map<String, String> metadata();

    /** The tensor as a Java float array, converted from any dtype; fails above 2^31 - 1 elements. */
    public abstract float[] getFloat(String name);

    /** An integer tensor (I64, I32, I16, I8, U8, BOOL) as longs. */
    public abstract long[] loadLong(String name);

    /** An integer tensor as ints; I64 values outside the int range are an error rather than silently wrapped. */
    public abstract int[] loadInt(String name);

    /** The stored bytes, little-endian, whatever the dtype (U8 images, raw copies); fails above 2 GB. */
    public abstract byte[] loadBytes(String name);

    /** A read-only little-endian mapping of the stored bytes (≤ 2 GB), for copying without conversion. */
    public abstract ByteBuffer mappedBytes(String name);

    /**
     * Hands the tensor to {@code sink} in consecutive little-endian pieces, in dtype {@code to}: the stored bytes when
     * {@code to} is the stored dtype, else a float dtype converted to F32 (exact) or BF16 (rounded to nearest even).
     * Reads are positional and bounded (8 MiB of the file at a time), so a tensor of any size streams in little
     * memory. A piece is valid only during the call.
     */
    public abstract void stream(String name, Dtype to, Consumer<ByteBuffer> sink);

    static SafetensorsException wrap(Path file, String tensor, IOException e) {
        String where = tensor == null ? file + ": " : file + ": tensor '" + tensor + "': ";
        return new SafetensorsException(where + "I/O error: " + e, e);
    }
}
