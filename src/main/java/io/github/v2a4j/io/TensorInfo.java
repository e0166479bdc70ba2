package io.github.v2a4j.io;

import java.nio.file.Path;
import java.util.Arrays;

/**
 * Where one tensor lives: its file, dtype (safetensors spelling: F32, BF16, F16, F64, I64, I32, I16, I8, U8, BOOL),
 * shape and byte span relative to the start of the file's data area.
 */
public record TensorInfo(String name, Path file, String dtype, long[] shape, long begin, long end) {

    public long elements() {
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }

    /** Whether the dtype is a floating-point one (F64, F32, F16, BF16): what every model weight must be. */
    public boolean isFloat() {
        Dtype d = Dtype.parse(dtype);
        return d != null && d.isFloat();
    }

    /** " (file name)" for messages, or nothing for a tensor that lives in memory. */
    public String inFile() {
        return file == null ? "" : " (" + file.getFileName() + ")";
    }

    public String shapeString() {
        return Arrays.toString(shape);
    }
}
