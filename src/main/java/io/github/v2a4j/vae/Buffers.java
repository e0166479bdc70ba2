package io.github.v2a4j.vae;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.TreeMap;
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
 *       thread), released arrays are kept and handed out again by {@link #take}, reshaped, for any request they can
 *       hold with at most half of them unused. A request nothing pooled can hold frees everything pooled first, so
 *       the peak stays near what it was without reuse.</li>
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
        /** Free owned arrays by length. */
        private final TreeMap<Long, ArrayDeque<INDArray>> free = new TreeMap<>();
        /** Arrays handed out over a longer pooled buffer (not closeable themselves) → the array owning it. */
        private final IdentityHashMap<INDArray, INDArray> ownerOf = new IdentityHashMap<>();

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
            ownerOf.clear();
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

    /**
     * An uninitialised dense fp32 array of {@code shape}: inside a pool, the shortest pooled buffer that holds it, if
     * it is at most twice as long; else a new one (after freeing everything pooled).
     */
    static INDArray take(long... shape) {
        Pool p = CURRENT.get();
        if (p != null) {
            long len = 1;
            for (long s : shape) len *= s;
            Map.Entry<Long, ArrayDeque<INDArray>> e = p.free.ceilingEntry(len);
            if (e != null && e.getKey() <= 2 * len) {
                INDArray owner = e.getValue().pop();
                if (e.getValue().isEmpty()) p.free.remove(e.getKey());
                REUSED.incrementAndGet();
                if (Arrays.equals(owner.shape(), shape)) return owner;
                INDArray view = Nd4j.create(owner.data(), shape, Nd4j.getStrides(shape, 'c'), 0, 'c', DataType.FLOAT);
                p.ownerOf.put(view, owner);
                return view;
            }
            p.clear();
        }
        return Nd4j.createUninitialized(DataType.FLOAT, shape);
    }

    /**
     * Gives up {@code x}: pooled for reuse inside a pool, else freed now — if it is an array we own (not a view), or
     * one {@link #take} made over a pooled buffer; else nothing happens. The caller must not use {@code x} afterwards.
     */
    static void release(INDArray x) {
        if (x == null) return;
        Pool p = CURRENT.get();
        INDArray owner = p != null ? p.ownerOf.remove(x) : null;
        if (owner != null) x = owner;
        else if (!x.closeable()) return;
        if (p != null && x.length() >= minPooled && x.dataType() == DataType.FLOAT && x.ordering() == 'c') {
            p.free.computeIfAbsent(x.length(), k -> new ArrayDeque<>()).push(x);
        } else {
            x.close();
        }
    }

}
