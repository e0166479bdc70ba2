package io.github.v2a4j.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

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

    static SafetensorsException wrap(Path file, String tensor, IOException e) {
        String where = tensor == null ? file + ": " : file + ": tensor '" + tensor + "': ";
        return new SafetensorsException(where + "I/O error: " + e, e);
    }
}
