package io.github.v2a4j.io;

import java.util.SortedSet;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

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

    /**
     * Rows {@code rows} of a 2-D tensor (repeats allowed) as a new F32 {@code [rows.length, columns]} array. File
     * sources read just those rows, so a handful of ids never converts a whole 1 GB embedding table; this default
     * goes through {@link #mapped}.
     */
    default INDArray rows(String name, long[] rows) {
        TensorInfo info = info(name);
        checkRows(info, rows);
        INDArray table = mapped(name);
        long cols = info.shape()[1];
        INDArray out = Nd4j.createUninitialized(DataType.FLOAT, rows.length, cols);
        for (int r = 0; r < rows.length; r++) out.getRow(r).assign(table.getRow(rows[r]));
        if (!"F32".equals(info.dtype()) && table.closeable()) table.close(); // a conversion made for this call
        return out;
    }

    /** Throws naming the tensor unless it is 2-D and every row index lies inside it. */
    static void checkRows(TensorInfo info, long[] rows) {
        if (info.shape().length != 2) {
            throw new SafetensorsException(info.name() + " is " + info.shapeString() + ", not a 2-D table of rows");
        }
        for (long r : rows) {
            if (r < 0 || r >= info.shape()[0]) {
                throw new SafetensorsException("row " + r + " outside " + info.name() + " " + info.shapeString());
            }
        }
    }

    /**
     * Asks the source to bring these tensors' bytes into memory ahead of use, in the background (a checkpoint on disk
     * reads them into the page cache). A hint: it returns at once and may do nothing.
     */
    default void prefetch(Iterable<String> names) {}

    @Override
    void close();
}
