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
 * {@code ….out.0}); while a guard is {@link #run active} on the thread, {@link Trace#record} first checks each
 * block's output (see {@link #BLOCK}), whether or not the trace keeps it. The check reads the array's memory once in
 * Java (two floats per 64-bit load, large arrays split over the cores), with no native call: on the demo model's many
 * tiny blocks a native reduction cost more per call than the block itself.
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

    /**
     * Index (in C order) of the first NaN or Inf of a float array, or -1. Integer arrays are always finite.
     */
    public static long firstNonFinite(INDArray x) {
        DataType t = x.dataType();
        if (!t.isFPType()) return -1;
        if (t != DataType.FLOAT || x.isView() || x.ordering() != 'c' || x.data().length() != x.length()) {
            return firstNonFinite(x.castTo(DataType.FLOAT).dup('c'));
        }
        BytePointer raw = new BytePointer(x.data().addressPointer());
        long bytes = 4 * x.length();
        raw.capacity(bytes);
        if (bytes < 2 * PARALLEL_BYTES) return scan(raw, 0, bytes);
        // a memory-bound read: one core reads about 5 GB/s here, so large activations are split over the cores
        long chunks = (bytes + PARALLEL_BYTES - 1) / PARALLEL_BYTES;
        return LongStream.range(0, chunks).parallel()
                .map(c -> scan(raw, c * PARALLEL_BYTES, Math.min(bytes, (c + 1) * PARALLEL_BYTES)))
                .filter(i -> i >= 0).min().orElse(-1);
    }

    /** First non-finite float index in bytes {@code [from, to)} of {@code raw}, or -1. */
    private static long scan(BytePointer raw, long from, long to) {
        for (long off = from; off < to; off += WINDOW) {
            long len = Math.min(WINDOW, to - off);
            // getPointer, not position(): JavaCPP 1.5.7 builds a wrong buffer once position exceeds 2^31 bytes.
            ByteBuffer b = raw.<BytePointer>getPointer(off).limit(len).asBuffer().order(ByteOrder.nativeOrder());
            long i = Finite.firstNonFinite(b, Dtype.F32);
            if (i >= 0) return off / 4 + i;
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
