package io.github.v2a4j.cogvlm;

import io.github.v2a4j.io.TensorInfo;
import io.github.v2a4j.io.TensorSource;
import io.github.v2a4j.nn.Weights;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The parameters of one streamed block (a vision layer, a decoder layer, the adapter) and the means to give their
 * memory back as soon as the block has run.
 *
 * <p>Why: the real checkpoint is 25 GB of bf16 and does not fit in RAM as fp32. {@link TensorSource#mapped} maps F32
 * tensors zero-copy but converts other dtypes into a new fp32 array. A block's converted arrays are tracked here and
 * {@link #close() closed} right after the block ran over all its inputs, instead of waiting for a garbage collection
 * that a nearly empty Java heap may not trigger for many layers. Mapped F32 arrays are never closed (they belong to
 * the mapping). The tiny golden model (F32) and the real model (BF16) run through exactly this code.
 *
 * <p>{@link #check} is the dry run: it compares every name/shape a model would load against the checkpoint headers,
 * without reading data, so a wrong checkpoint fails before hours of compute with one message listing every problem.
 */
final class Params implements AutoCloseable {

    private final Weights weights;
    private final TensorSource source;
    private final List<INDArray> owned;
    private final Check check;

    private Params(Weights weights, TensorSource source, List<INDArray> owned, Check check) {
        this.weights = weights;
        this.source = source;
        this.owned = owned;
        this.check = check;
    }

    /** Loading parameters of the scope {@code path} (empty for the checkpoint root). */
    static Params load(TensorSource source, String path) {
        Weights w = Weights.of(source, "");
        return new Params(path.isEmpty() ? w : w.at(path), source, new ArrayList<>(), null);
    }

    /** A dry run over the whole checkpoint: {@link #get} returns null and only records problems. */
    static Params check(TensorSource source) {
        return new Params(Weights.of(source, ""), source, null, new Check());
    }

    Params at(String path) {
        return new Params(weights.at(path), source, owned, check);
    }

    String name(String local) {
        return weights.name(local);
    }

    boolean dryRun() {
        return check != null;
    }

    /** The parameter {@code local} with the expected {@code shape} as fp32 (null in a dry run). */
    INDArray get(String local, long... shape) {
        String full = weights.name(local);
        if (check != null) {
            check.used.add(full);
            check.requested.put(full, shape.clone());
            if (!source.contains(full)) {
                check.problems.add("missing " + full + " " + Arrays.toString(shape));
            } else {
                TensorInfo info = source.info(full);
                if (!Arrays.equals(info.shape(), shape)) {
                    check.problems.add("wrong shape " + full + " is " + info.shapeString() + ", expected "
                            + Arrays.toString(shape) + " (" + info.fileName() + ")");
                } else if (!info.isFloat()) {
                    check.problems.add("wrong dtype " + full + " is " + info.dtype() + ", a weight must be F32, BF16, "
                            + "F16 or F64 (" + info.fileName() + ")");
                }
            }
            return null;
        }
        INDArray a = weights.get(local, shape);
        boolean mapped = source.contains(full) && "F32".equals(source.info(full).dtype());
        if (!mapped) owned.add(a);
        return a;
    }

    /** Marks a checkpoint tensor as deliberately unused (the dry run would call it unexpected otherwise). */
    void ignore(String local) {
        if (check != null) check.used.add(weights.name(local));
    }

    /** Frees the converted (non-mapped) arrays of this block. */
    @Override
    public void close() {
        if (owned == null) return;
        long bytes = 0;
        for (INDArray a : owned) {
            bytes += a.length() * 4;
            if (a.closeable()) a.close();
        }
        owned.clear();
        // A streamed real-size block leaves GB of dead temporaries whose native memory ND4J frees only when their
        // Java objects are collected, and a nearly empty heap rarely collects: measured +2.4 GB RSS per vision layer
        // without this, flat 4.2 GiB with it, for 0.22 s per layer.
        if (bytes >= GC_AFTER_BYTES) System.gc();
    }

    /** Blocks whose converted weights reach this size trigger a collection when closed (real-size layers). */
    static final long GC_AFTER_BYTES = 64L << 20;

    /**
     * After a dry run: throws one error naming every missing or mis-shaped tensor and every tensor under
     * {@code prefixes} that no block asked for.
     */
    void verify(String what, String... prefixes) {
        if (check == null) throw new IllegalStateException("not a dry run");
        List<String> problems = new ArrayList<>(check.problems);
        for (String n : source.names()) {
            if (check.used.contains(n)) continue;
            for (String p : prefixes) {
                if (n.startsWith(p)) {
                    problems.add("unexpected " + n);
                    break;
                }
            }
        }
        if (problems.isEmpty()) return;
        StringBuilder sb = new StringBuilder(what).append(" does not match the CogVLM2 config: ");
        int shown = Math.min(problems.size(), 10);
        sb.append(String.join("; ", problems.subList(0, shown)));
        if (problems.size() > shown) sb.append("; … ").append(problems.size() - shown).append(" more");
        throw new IllegalArgumentException(sb.toString());
    }

    /** After a dry run: every name the blocks asked for, with the shape they expect, in request order. */
    Map<String, long[]> requested() {
        return check.requested;
    }

    private static final class Check {
        final Map<String, long[]> requested = new LinkedHashMap<>();
        final Set<String> used = new TreeSet<>();
        final List<String> problems = new ArrayList<>();
    }
}
