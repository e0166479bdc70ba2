package io.github.v2a4j.nn;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.TreeMap;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Early release and reuse of activation buffers.
 *
 * <p>A fresh native buffer is expensive twice over: ND4J fills it on one thread, and the pages of a large one are
 * faulted in on first touch (on a VM each fault is a hypervisor exit). Inside a {@link Pool} (one per model run, on
 * the running thread), released arrays are kept and handed out again by {@link #take} — reshaped — for any request
 * of the same data type they can hold with at most half of them unused. A model that runs the same forward pass
 * again (51 UNet evaluations) then allocates nothing after the first one.
 *
 * <p>What a pool may keep unused is bounded by its budget: a request nothing pooled can hold allocates, and first
 * frees pooled buffers, largest first, as far as keeping them would exceed the budget; a release that would exceed
 * it frees the array. A budget of 0 frees everything pooled on every miss, which keeps the peak at the live set of
 * the pass (the VAE decoder, whose activations are 300–600 MB each).
 *
 * <p>Outside a pool, {@link #take} allocates and {@link #release} frees at once.
 */
public final class Buffers {
    private Buffers() {}

    /** Arrays of fewer elements are simply freed. */
    public static final long DEFAULT_MIN_POOLED = 1L << 16;

    /** In use; tests lower it so that tiny models go through the pool. */
    public static long minPooled = DEFAULT_MIN_POOLED;
    private static final ThreadLocal<Pool> CURRENT = new ThreadLocal<>();

    /** Arrays handed out again by {@link #take} since start (all threads); tests check the pool is exercised. */
    public static final java.util.concurrent.atomic.AtomicLong REUSED = new java.util.concurrent.atomic.AtomicLong();

    /** Bytes {@link #take} allocated fresh inside a pool since start (all threads): a pass in its steady state adds 0. */
    public static final java.util.concurrent.atomic.AtomicLong ALLOCATED = new java.util.concurrent.atomic.AtomicLong();

    /**
     * Buffers kept for reuse. A pool is active on a thread while {@link #enter entered}; it may be entered again
     * later (from any thread, one at a time), so a model can keep its pool between calls.
     */
    public static final class Pool implements AutoCloseable {
        private final long budget;
        /** Free owned arrays by data type, then length. */
        private final Map<DataType, TreeMap<Long, ArrayDeque<INDArray>>> free = new java.util.EnumMap<>(DataType.class);
        /** Arrays handed out over a longer pooled buffer (not closeable themselves) → the array owning it. */
        private final IdentityHashMap<INDArray, INDArray> ownerOf = new IdentityHashMap<>();
        private long pooledBytes;
        private Scope openScope;

        private Pool(long budget) {
            this.budget = budget;
        }

        /** Makes this pool the current thread's until the returned scope is closed. */
        public synchronized Scope enter() {
            Pool previous = CURRENT.get();
            if (previous == this) return () -> { };
            CURRENT.set(this);
            return () -> {
                if (previous == null) CURRENT.remove();
                else CURRENT.set(previous);
            };
        }

        /** Frees every buffer kept for reuse. */
        public synchronized void clear() {
            free.values().forEach(m -> m.values().forEach(d -> d.forEach(INDArray::close)));
            free.clear();
            pooledBytes = 0;
        }

        /**
         * Before a fresh allocation of {@code bytes}: frees pooled buffers, largest first, until what stays pooled
         * plus the new buffer fits the budget (a budget of 0 frees all). Only as much as needed goes, so a miss on
         * one size does not throw away the buffers of every other size the pass is about to take again.
         */
        synchronized void makeRoom(long bytes) {
            if (budget == 0) {
                clear();
                return;
            }
            while (pooledBytes > 0 && pooledBytes + bytes > budget) {
                Map.Entry<DataType, TreeMap<Long, ArrayDeque<INDArray>>> biggest = null;
                long most = -1;
                for (Map.Entry<DataType, TreeMap<Long, ArrayDeque<INDArray>>> e : free.entrySet()) {
                    if (e.getValue().isEmpty()) continue;
                    long b = e.getValue().lastKey() * e.getKey().width();
                    if (b > most) {
                        most = b;
                        biggest = e;
                    }
                }
                if (biggest == null) break;
                TreeMap<Long, ArrayDeque<INDArray>> byLength = biggest.getValue();
                Map.Entry<Long, ArrayDeque<INDArray>> last = byLength.lastEntry();
                INDArray a = last.getValue().pop();
                if (last.getValue().isEmpty()) byLength.remove(last.getKey());
                pooledBytes -= a.length() * biggest.getKey().width();
                a.close();
            }
        }

        /** Bytes held for reuse now. */
        public synchronized long pooledBytes() {
            return pooledBytes;
        }

        /** Leaves the scope {@link Buffers#open} entered, and frees what the pool holds. */
        @Override
        public void close() {
            if (openScope != null) openScope.close();
            clear();
            ownerOf.clear();
        }
    }

    /** The end of a pool's activity on a thread. */
    public interface Scope extends AutoCloseable {
        @Override
        void close();
    }

    /** Pooled bytes kept unused by default: the UNet's and CogVLM2's working sets fit comfortably. */
    public static final long DEFAULT_BUDGET = 2L << 30;

    /** A pool, not yet entered, that keeps at most {@code budgetBytes} pooled and unused. */
    public static Pool newPool(long budgetBytes) {
        return new Pool(budgetBytes);
    }

    /** Opens (creates and enters) a pool with the {@link #DEFAULT_BUDGET}; close it with try-with-resources. */
    public static Pool open() {
        return open(DEFAULT_BUDGET);
    }

    /** Opens a pool that keeps at most {@code budgetBytes} pooled and unused (0: free all on every miss). */
    public static Pool open(long budgetBytes) {
        Pool p = new Pool(budgetBytes);
        p.openScope = p.enter();
        return p;
    }

    /** An uninitialised dense fp32 array of {@code shape} (see {@link #take(DataType, long...)}). */
    public static INDArray take(long... shape) {
        return take(DataType.FLOAT, shape);
    }

    /**
     * An uninitialised dense c-order array: inside a pool, the shortest pooled buffer of that type that holds it, if
     * it is at most twice as long; else a new one (after freeing everything pooled).
     */
    public static INDArray take(DataType type, long... shape) {
        return take(false, type, shape);
    }

    /**
     * As {@link #take(DataType, long...)}, but only a pooled buffer of exactly this length is reused, so the result
     * always owns its memory and {@link #release} frees or pools it in whichever pool is current then. For buffers
     * that outlive the call that made them: the packed weights of a layer, which a streamed model releases when the
     * layer is done and the next layer, of the same shapes, takes again.
     */
    public static INDArray takeExact(DataType type, long... shape) {
        return take(true, type, shape);
    }

    private static INDArray take(boolean exact, DataType type, long... shape) {
        Pool p = CURRENT.get();
        if (p != null) {
            long len = 1;
            for (long s : shape) len *= s;
            TreeMap<Long, ArrayDeque<INDArray>> byLength = p.free.get(type);
            Map.Entry<Long, ArrayDeque<INDArray>> e = byLength == null ? null : byLength.ceilingEntry(len);
            if (e != null && (exact ? e.getKey() == len : e.getKey() <= 2 * len)) {
                INDArray owner = e.getValue().pop();
                if (e.getValue().isEmpty()) byLength.remove(e.getKey());
                p.pooledBytes -= owner.length() * type.width();
                REUSED.incrementAndGet();
                if (Arrays.equals(owner.shape(), shape)) return owner;
                INDArray view = NN.view(owner, shape, Nd4j.getStrides(shape, 'c'), 0);
                p.ownerOf.put(view, owner);
                return view;
            }
            if (len >= minPooled) p.makeRoom(len * type.width());
            ALLOCATED.addAndGet(len * type.width());
        }
        return Nd4j.createUninitialized(type, shape);
    }

    /**
     * Gives up {@code x}: pooled for reuse inside a pool, else freed now — if it is an array we own (not a view), or
     * one {@link #take} made over a pooled buffer; else nothing happens. The caller must not use {@code x} afterwards.
     */
    public static void release(INDArray x) {
        if (x == null) return;
        Pool p = CURRENT.get();
        INDArray owner = p != null ? p.ownerOf.remove(x) : null;
        if (owner != null) x = owner;
        else if (!x.closeable() || x.isView() || x.data().wasClosed()) return;
        // the budget holds on release too: arrays made outside the pool (dup, ND4J ops) and released into it would
        // otherwise pile up while every take hits (CogVLM2's decoder grew 337 MB per layer that way)
        if (p != null && x.length() >= minPooled && x.ordering() == 'c'
                && (p.budget == 0 || p.pooledBytes + x.length() * x.dataType().width() <= p.budget)) {
            p.free.computeIfAbsent(x.dataType(), k -> new TreeMap<>())
                    .computeIfAbsent(x.length(), k -> new ArrayDeque<>()).push(x);
            p.pooledBytes += x.length() * x.dataType().width();
        } else {
            x.close();
        }
    }

    /** Releases each of {@code xs} (nulls skipped). */
    public static void release(INDArray... xs) {
        for (INDArray x : xs) release(x);
    }
}
