package io.github.v2a4j.io;

import java.util.SortedSet;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Named tensors from a checkpoint: one safetensors file, a sharded index, or a directory of them.
 *
 * <p>{@link #mapped} gives zero-copy, read-only views of F32 tensors: never write into them (a write into a
 * read-only mapping kills the JVM). {@link #loadFloat} always returns a fresh, writable F32 copy.
 */
public interface TensorSource extends AutoCloseable {

    /** All tensor names, sorted. */
    SortedSet<String> names();

    boolean contains(String name);

    /** dtype, shape and location of a tensor; throws {@link SafetensorsException} naming the tensor if absent. */
    TensorInfo info(String name);

    /**
     * The tensor as F32. F32 tensors are mapped zero-copy and READ-ONLY; other dtypes are converted into a new
     * array. Callers must treat the result as immutable.
     */
    INDArray mapped(String name);

    /**
     * The tensor in its stored floating type (F32, BF16 or F16), zero-copy and READ-ONLY where the source can map
     * it: for kernels that read bf16 weights directly. Sources that cannot map a type give {@link #mapped}.
     */
    default INDArray mappedAsStored(String name) {
        return mapped(name);
    }

    /** A new, writable F32 copy of the tensor, whatever its stored dtype. */
    INDArray loadFloat(String name);

    @Override
    void close();
}
