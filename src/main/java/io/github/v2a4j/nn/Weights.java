package io.github.v2a4j.nn;

import io.github.v2a4j.io.TensorInfo;
import io.github.v2a4j.io.TensorSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Parameter lookup by upstream name, scoped by module path. Models ask for every tensor with the shape the config
 * implies; problems are collected instead of thrown one at a time, so {@link #verify()} can list every missing,
 * mis-shaped and unexpected tensor of a checkpoint in one error.
 *
 * <p>F32 tensors come back as zero-copy read-only mappings: models never write into a weight.
 */
public final class Weights {

    private final TensorSource source;
    private final String prefix;
    private final Shared shared;

    private static final class Shared {
        final Set<String> used = new TreeSet<>();
        final java.util.Map<String, long[]> requested = new java.util.LinkedHashMap<>();
        final List<String> missing = new ArrayList<>();
        final List<String> misShaped = new ArrayList<>();
        final List<String> wrongDtype = new ArrayList<>();
        final String root;

        Shared(String root) {
            this.root = root;
        }
    }

    private Weights(TensorSource source, String prefix, Shared shared) {
        this.source = source;
        this.prefix = prefix;
        this.shared = shared;
    }

    /** Weights of a whole checkpoint; {@code rootPrefix} is prepended to every name (e.g. {@code "unet."} or ""). */
    public static Weights of(TensorSource source, String rootPrefix) {
        return new Weights(source, rootPrefix, new Shared(rootPrefix));
    }

    /** The same checkpoint seen from a submodule: {@code at("down_blocks.0")} then {@code get("resnets.0.conv1.weight")}. */
    public Weights at(String path) {
        return new Weights(source, prefix + path + ".", shared);
    }

    /** Full upstream name of a parameter of this scope. */
    public String name(String local) {
        return prefix + local;
    }

    public boolean has(String local) {
        return source.contains(prefix + local);
    }

    /**
     * The parameter {@code local} of this scope, which must have {@code shape}. A missing or mis-shaped tensor is
     * recorded and a zero placeholder of the expected shape returned, so construction can go on and report all
     * problems at once through {@link #verify()}.
     */
    public INDArray get(String local, long... shape) {
        String full = prefix + local;
        shared.used.add(full);
        shared.requested.put(full, shape.clone());
        if (!source.contains(full)) {
            shared.missing.add(full + " " + Arrays.toString(shape));
            return Nd4j.zeros(DataType.FLOAT, shape);
        }
        TensorInfo info = source.info(full);
        if (!Arrays.equals(info.shape(), shape)) {
            shared.misShaped.add(full + " is " + info.shapeString() + ", expected " + Arrays.toString(shape)
                    + " (" + info.fileName() + ")");
            return Nd4j.zeros(DataType.FLOAT, shape);
        }
        if (!info.isFloat()) {
            // an integer tensor of the right byte span would otherwise be read as numbers, silently
            shared.wrongDtype.add(full + " is " + info.dtype() + ", a weight must be F32, BF16, F16 or F64 ("
                    + info.fileName() + ")");
            return Nd4j.zeros(DataType.FLOAT, shape);
        }
        return source.mapped(full);
    }

    /** Like {@link #get} but returns a writable copy (for parameters a model transforms once at load time). */
    public INDArray copy(String local, long... shape) {
        INDArray w = get(local, shape);
        return w.dup();
    }

    /**
     * Every parameter a model asked for, with the shape it expected, in the order asked. Building a model over an
     * empty source and reading this gives the checkpoint layout the model needs (the demo model and random-weight
     * benchmarks are made this way).
     */
    public java.util.Map<String, long[]> requested() {
        return java.util.Collections.unmodifiableMap(shared.requested);
    }

    /** Marks names as deliberately unused (buffers the maths does not need), so verify does not call them unexpected. */
    public void ignore(String local) {
        shared.used.add(prefix + local);
    }

    /**
     * Throws one {@link IllegalArgumentException}, naming the checkpoint, listing every missing, mis-shaped and
     * non-float tensor and, when {@code strict}, every tensor of the source under the root prefix that no module
     * asked for.
     */
    public void verify(boolean strict) {
        List<String> unexpected = new ArrayList<>();
        if (strict) {
            for (String n : source.names()) {
                if (n.startsWith(shared.root) && !shared.used.contains(n)) unexpected.add(n);
            }
        }
        if (shared.missing.isEmpty() && shared.misShaped.isEmpty() && shared.wrongDtype.isEmpty()
                && unexpected.isEmpty()) {
            return;
        }
        StringBuilder sb = new StringBuilder(source + ": checkpoint does not match the model:");
        appendList(sb, "missing", shared.missing);
        appendList(sb, "wrong shape", shared.misShaped);
        appendList(sb, "wrong dtype", shared.wrongDtype);
        appendList(sb, "unexpected", unexpected);
        throw new IllegalArgumentException(sb.toString());
    }

    private static void appendList(StringBuilder sb, String what, List<String> names) {
        if (names.isEmpty()) return;
        sb.append(' ').append(names.size()).append(' ').append(what).append(" (");
        int shown = Math.min(names.size(), 8);
        for (int i = 0; i < shown; i++) {
            if (i > 0) sb.append(", ");
            sb.append(names.get(i));
        }
        if (names.size() > shown) sb.append(", … ").append(names.size() - shown).append(" more");
        sb.append(");");
    }
}
