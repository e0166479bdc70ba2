package io.github.v2a4j.nn;

import io.github.v2a4j.io.Dtype;
import io.github.v2a4j.io.Finite;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.function.Supplier;
import java.util.stream.LongStream;
import java.util.regex.Pattern;
import org.bytedeco.javacpp.BytePointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Stops a model at the first block whose output holds NaN or Inf, naming that block and where its input came from,
 * instead of letting the NaN run on into "successful" silence.
 *
 * <p>Every block already reports its output to its {@link Trace} under its upstream path ({@code ….out},
 * {@code ….out.0}); while a guard is {@link #run active} on the thread, {@link Trace#record} and
 * {@link Trace#recordChannelsLast} first check each block's output (see {@link #BLOCK}), whether or not the trace
 * keeps it. The check reads the array's memory once where it lies, in whatever layout (channels-last included), in
 * Java (two floats per 64-bit load, large arrays split over the cores), with no native call and no copy: on the demo
 * model's many tiny blocks a native reduction cost more per call than the block itself.
 */
public final class FiniteGuard {

    private static final ThreadLocal<FiniteGuard> CURRENT = new ThreadLocal<>();
    /** Block outputs: {@code out} or {@code out.<i>[.<j>]} as the last segments. */
    private static final Pattern OUTPUT = Pattern.compile("(^|.*\\.)out(\\.\\d+)*");
    /**
     * The modules checked: the entries of module lists (resnets.0, attentions.1, transformer_blocks.0, layers.3,
     * up_blocks.2, …) and the stems around them, not the single layers inside a block (norms, convolutions,
     * projections). A NaN made inside a block reaches the block's output; checking every inner layer would read each
     * activation several times per block (measured on the demo VAE: 72 outputs, 96 MB per decode).
     */
    private static final Pattern BLOCK = Pattern.compile("(.*\\.)?(\\d+|conv_in|conv_out|mid_block|time_embedding|decoder"
            + "|transformer|linear_proj)");
    private static final Pattern LAYER_LIST = Pattern.compile(".*\\.(to_out|net)\\.\\d+");
    /** Arrays from this size are scanned in parallel chunks of this size. */
    private static final long PARALLEL_BYTES = 4L << 20;
    private static final long WINDOW = 1L << 30;

    private final String model;
    private final String input;
    private String lastFinite;

    private FiniteGuard(String model, String input) {
        this.model = model;
        this.input = input;
    }

    /**
     * Runs {@code work} with every block output it reports checked.
     *
     * @param model what runs, for the message ("UNet")
     * @param input where the model's input came from, for the message ("the latents of step 3 of 51"); the caller
     *              has checked it is finite
     * @throws NonFiniteException at the first block output that is not finite
     */
    public static <T> T run(String model, String input, Supplier<T> work) {
        FiniteGuard previous = CURRENT.get();
        CURRENT.set(new FiniteGuard(model, input));
        try {
            return work.get();
        } finally {
            if (previous == null) CURRENT.remove();
            else CURRENT.set(previous);
        }
    }

    /** Called by {@link Trace} for every reported tensor. */
    static void check(String name, INDArray x) {
        FiniteGuard g = CURRENT.get();
        if (g == null || !OUTPUT.matcher(name).matches()) return;
        String module = module(name);
        if (!BLOCK.matcher(module).matches() || LAYER_LIST.matcher(module).matches()) return;
        long bad = firstNonFinite(x);
        if (bad < 0) {
            g.lastFinite = module;
            return;
        }
        throw new NonFiniteException(g.model + ": " + module + " gave " + describe(x, bad) + " (element "
                + bad + " of " + x.length() + " of its output); its input came from " + g.input + " (finite)"
                + (g.lastFinite == null ? "" : " and every block output before it was finite (the last: "
                + g.lastFinite + ")"));
    }

    /** Stops with one line naming {@code what} when {@code x} holds NaN or Inf (a check outside any block). */
    public static void requireFinite(INDArray x, String what) {
        long bad = firstNonFinite(x);
        if (bad >= 0) {
            throw new NonFiniteException(what + ": " + describe(x, bad) + " at element " + bad + " of " + x.length());
        }
    }

    /**
     * Index (in C order of {@code x}'s shape) of the first NaN or Inf of a float array, or -1. Integer arrays are
     * always finite.
     *
     * <p>Finiteness does not depend on the layout: an array whose elements fill one dense block of memory (a
     * c-order array, a channels-last one, any permutation of them, a pooled array over a longer buffer) is read
     * where it lies, with no copy. Only a strided view that skips memory, or a block that does hold a NaN but in
     * another order than C order (to name the element), is copied.
     */
    public static long firstNonFinite(INDArray x) {
        DataType t = x.dataType();
        if (!t.isFPType() || x.length() == 0) return -1;
        Dtype d = dtype(t);
        if (d == null || !denseBlock(x)) return inCOrder(x);
        long bad = scan(new BytePointer(x.data().addressPointer()), x.length() * d.size(), d);
        if (bad < 0 || NN.isDense(x)) return bad;
        return inCOrder(x);
    }

    /** The first non-finite index of a dense fp32 c-order copy. */
    private static long inCOrder(INDArray x) {
        INDArray c = x.castTo(DataType.FLOAT).dup('c');
        return scan(new BytePointer(c.data().addressPointer()), 4 * c.length(), Dtype.F32);
    }

    /**
     * Whether the elements of {@code x} fill {@code x.length()} consecutive slots from its first element: its strides,
     * sorted, are those of a dense array of some dimension order. A view's data buffer starts at its first element.
     */
    static boolean denseBlock(INDArray x) {
        int r = x.rank();
        long[][] dims = new long[r][];
        for (int i = 0; i < r; i++) dims[i] = new long[] {x.stride(i), x.size(i)};
        java.util.Arrays.sort(dims, java.util.Comparator.comparingLong(a -> a[0]));
        long expect = 1;
        for (long[] dim : dims) {
            if (dim[1] == 1) continue; // the stride of a size-1 dimension is never used
            if (dim[0] != expect) return false;
            expect *= dim[1];
        }
        return true;
    }

    private static Dtype dtype(DataType t) {
        return switch (t) {
            case FLOAT -> Dtype.F32;
            case DOUBLE -> Dtype.F64;
            case HALF -> Dtype.F16;
            case BFLOAT16 -> Dtype.BF16;
            default -> null;
        };
    }

    /** First non-finite element of {@code bytes} bytes of {@code d} at {@code raw}, or -1; large spans in parallel. */
    private static long scan(BytePointer raw, long bytes, Dtype d) {
        raw.capacity(bytes);
        if (bytes < 2 * PARALLEL_BYTES) return scan(raw, 0, bytes, d);
        // a memory-bound read: one core reads about 5 GB/s, so large activations are split over the cores
        long chunks = (bytes + PARALLEL_BYTES - 1) / PARALLEL_BYTES;
        return LongStream.range(0, chunks).parallel()
                .map(c -> scan(raw, c * PARALLEL_BYTES, Math.min(bytes, (c + 1) * PARALLEL_BYTES), d))
                .filter(i -> i >= 0).min().orElse(-1);
    }

    /** First non-finite element index in bytes {@code [from, to)} of {@code raw}, or -1. */
    private static long scan(BytePointer raw, long from, long to, Dtype d) {
        for (long off = from; off < to; off += WINDOW) {
            long len = Math.min(WINDOW, to - off);
            // getPointer(off), not position(off): a buffer from a position beyond 2^31 bytes is not reliable
            ByteBuffer b = raw.<BytePointer>getPointer(off).limit(len).asBuffer().order(ByteOrder.nativeOrder());
            long i = Finite.firstNonFinite(b, d);
            if (i >= 0) return off / d.size() + i;
        }
        return -1;
    }

    private static String describe(INDArray x, long index) {
        double v = x.dup('c').reshape(x.length()).getDouble(index);
        return Double.isNaN(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf";
    }

    /** {@code down_blocks.0.resnets.1.out} → {@code down_blocks.0.resnets.1}. */
    private static String module(String name) {
        String m = name.replaceFirst("(^|\\.)out(\\.\\d+)*$", "");
        return m.isEmpty() ? name : m;
    }

    /** A block produced NaN or Inf; the message names the model, the block and its input. */
    public static final class NonFiniteException extends IllegalStateException {
        public NonFiniteException(String message) {
            super(message);
        }
    }
}
