package io.github.v2a4j.convert;

import java.nio.file.Path;
import java.util.Arrays;

/**
 * One tensor of a safetensors file as its header describes it: absolute byte span in {@code file}. Only headers are
 * read; the data is streamed later, so checkpoints larger than memory convert.
 */
record RawTensor(String name, Path file, String dtype, long[] shape, long start, long length) {

    long elements() {
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }

    RawTensor renamed(String newName) {
        return new RawTensor(newName, file, dtype, shape, start, length);
    }

    RawTensor reshaped(long[] newShape) {
        return new RawTensor(name, file, dtype, newShape, start, length);
    }

    String shapeString() {
        return Arrays.toString(shape);
    }
}
