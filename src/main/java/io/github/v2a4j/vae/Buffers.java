package io.github.v2a4j.vae;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Early release and reuse of dead activations. At 512×1184 one activation with 128–256 channels is 300–600 MB.
 *
 * <ul>
 *   <li>Release: freeing each as soon as it is dead (instead of waiting for the garbage collector to notice a small
 *       Java object) keeps the decoder's peak near two or three such buffers.</li>
 *   <li>Reuse: ND4J zero-fills every buffer it allocates, single-threaded (115 ms for 300 MB here, six times the cost
 *       of writing it), and a decode allocates dozens. Inside a {@link Pool} (one per decode, on the decoding
 *       thread), released arrays are kept by shape and handed out again by {@link #take}. A request for a shape the
 *       pool does not hold frees everything pooled first: shapes change only between blocks, so what is pooled then
 *       is not needed again, and the peak stays what it was without reuse.</li>
 * </ul>
 */
final class Buffers {
    private Buffers() {}

    /** Arrays of fewer elements are simply freed. */
    static final long DEFAULT_MIN_POOLED = 1L << 20;

    /** In use; tests lower it so that the tiny decoders go through the pool. */
    static long minPooled = DEFAULT_MIN_POOLED;
    private static final ThreadLocal<Pool> CURRENT = new ThreadLocal<>();

    /** Arrays handed out again by {@link #take} since start (all threads); tests check the pool is exercised. */
    static final java.util.concurrent.atomic.AtomicLong REUSED = new java.util.concurrent.atomic.AtomicLong();

    /** A scope of buffer reuse on the current thread; closing it frees what it holds. */
    static final class Pool implements AutoCloseable {
        private final Pool outer;
        private final Map<List<Long>, ArrayDeque<INDArray>> free = new HashMap<>();

        private Pool(Pool outer) {
            this.outer = outer;
        }

        private void clear() {
            free.values().forEach(d -> d.forEach(INDArray::close));
            free.clear();
        }

        @Override
        public void close() {
            clear();
            if (outer == null) CURRENT.remove();
            else CURRENT.set(outer);
        }
    }

    /** Opens a reuse scope on this thread (use with try-with-resources). */
    static Pool open() {
        Pool p = new Pool(CURRENT.get());
        CURRENT.set(p);
        return p;
    }

    /** An uninitialised dense fp32 array of {@code shape}: a pooled one if the current pool holds one. */
    static INDArray take(long... shape) {
        Pool p = CURRENT.get();
        if (p != null) {
            ArrayDeque<INDArray> d = p.free.get(key(shape));
            if (d != null && !d.isEmpty()) {
                REUSED.incrementAndGet();
                return d.pop();
            }
            p.clear();
        }
        return Nd4j.createUninitialized(DataType.FLOAT, shape);
    }

    /**
     * Gives up {@code x}: pooled for reuse inside a pool, else freed now — if it is an array we own (not a view);
     * else nothing happens. The caller must not use {@code x} afterwards.
     */
    static void release(INDArray x) {
        if (x == null || !x.closeable()) return;
        Pool p = CURRENT.get();
        if (p != null && x.length() >= minPooled && x.dataType() == DataType.FLOAT && x.ordering() == 'c') {
            p.free.computeIfAbsent(key(x.shape()), k -> new ArrayDeque<>()).push(x);
        } else {
            x.close();
        }
    }

    private static List<Long> key(long[] shape) {
        List<Long> k = new ArrayList<>(shape.length);
        for (long s : shape) k.add(s);
        return k;
    }
}
