package io.github.v2a4j.nn;

import io.github.v2a4j.io.TensorInfo;
import io.github.v2a4j.io.TensorSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Binds a model's blocks to their weights by upstream module path, as candle's {@code VarBuilder} does. A block gets
 * a binder scoped to its own path ({@code b.at("attn1")}), asks it for each tensor with the shape its config implies
 * ({@code b.linear("to_q.weight", c, c)}), and names its traced outputs after the same path
 * ({@code trace.record(b.path() + ".out", x)}), so a weight name and a trace name cannot drift apart.
 *
 * <p>Problems are collected, not thrown one at a time: a missing, mis-shaped or non-float tensor is recorded and
 * {@code null} handed out, construction goes on, and {@link #verify()} throws one error naming the component, the
 * checkpoint and every missing, mis-shaped, non-float and unexpected tensor. Blocks therefore only store what they are
 * given and use it in their forward pass, never in their constructor.
 *
 * <p>Two kinds of binder:
 * <ul>
 *   <li>{@link #load}: hands out the tensors. F32 tensors are the source's zero-copy, read-only mappings (or its own
 *       in-memory arrays); other dtypes (the bf16 CogVLM2 checkpoint) are converted to fp32 copies that the binder
 *       owns, and {@link #close()} frees them at once: a streamed layer's weights leave with the layer.</li>
 *   <li>{@link #check}: reads headers only and hands out {@code null}; building a model over it checks a checkpoint
 *       without reading its data, and {@link #parameters()} then lists the model's layout (names and shapes).</li>
 * </ul>
 *
 * <p>Blocks ask by {@link Role}: a precision policy (e.g. bf16 copies of matmul weights) attaches in {@link #fetch},
 * the one place a tensor leaves the source.
 */
public final class Binder implements AutoCloseable {

    /** What a block does with a tensor: the part of a request a precision policy would act on. */
    public enum Role {
        /** A 2-D weight multiplied with activations ({@code nn.Linear}). */
        LINEAR,
        /** A convolution kernel. */
        CONV,
        /** Everything else: biases, norm scales, embeddings, buffers. */
        OTHER
    }

    /** Converted weights at least this large make {@link #close()} ask for a collection (real-size layers). */
    static final long GC_AFTER_BYTES = 64L << 20;

    private final Shared shared;
    private final String path;

    private static final class Shared {
        final TensorSource source;
        final String component;
        final boolean load;
        final Precision precision;
        final Set<String> used = new TreeSet<>();
        final Map<String, long[]> requested = new LinkedHashMap<>();
        final List<String> missing = new ArrayList<>();
        final List<String> misShaped = new ArrayList<>();
        final List<String> wrongDtype = new ArrayList<>();
        final List<INDArray> owned = new ArrayList<>();
        /** Layers made by dense/conv2d: their packed weights are freed on close. */
        final List<Runnable> layers = new ArrayList<>();

        Shared(TensorSource source, String component, boolean load, Precision precision) {
            this.source = source;
            this.component = component;
            this.load = load;
            this.precision = precision;
        }
    }

    private Binder(Shared shared, String path) {
        this.shared = shared;
        this.path = path;
    }

    /** A binder that hands out the tensors of {@code source}; {@code component} names the model in errors. */
    public static Binder load(TensorSource source, String component) {
        return load(source, component, Precision.FP32);
    }

    /** A binder whose {@link #dense} and {@link #conv2d} layers compute their products in {@code precision}. */
    public static Binder load(TensorSource source, String component, Precision precision) {
        return new Binder(new Shared(source, component, true, precision), "");
    }

    /** A binder that checks names and shapes against {@code source}'s headers and hands out {@code null}. */
    public static Binder check(TensorSource source, String component) {
        return new Binder(new Shared(source, component, false, Precision.FP32), "");
    }

    /** The scope of submodule {@code child} (one or more dotted path segments). */
    public Binder at(String child) {
        return new Binder(shared, path.isEmpty() ? child : path + "." + child);
    }

    /** This scope's upstream module path ({@code ""} at the root): the prefix of its tensors and of its trace names. */
    public String path() {
        return path;
    }

    /** The full upstream name of {@code local} in this scope. */
    public String name(String local) {
        return path.isEmpty() ? local : path + "." + local;
    }

    /** The arithmetic of the products of the layers this binder makes. */
    public Precision precision() {
        return shared.precision;
    }

    /**
     * The linear layer {@code module} ({@code module.weight [out, in]}, and {@code module.bias [out]} if
     * {@code bias}); null from a checking binder.
     */
    public Linear dense(String module, long out, long in, boolean bias) {
        INDArray w = stored(part(module, "weight"), out, in);
        INDArray b = bias ? get(part(module, "bias"), out) : null;
        return w == null ? null : keep(new Linear(name(part(module, "weight")), w, b, shared.precision));
    }

    /** {@code module.local}, or {@code local} for the module this binder is scoped to ({@code module} empty). */
    private static String part(String module, String local) {
        return module.isEmpty() ? local : module + "." + local;
    }

    private Linear keep(Linear l) {
        shared.layers.add(l::release);
        return l;
    }

    /** A 1×1 convolution {@code module} ({@code [out, in, 1, 1]}) applied to token rows: a linear layer. */
    public Linear dense1x1(String module, long out, long in, boolean bias) {
        INDArray w = stored(part(module, "weight"), out, in, 1, 1);
        INDArray b = bias ? get(part(module, "bias"), out) : null;
        return w == null ? null : keep(new Linear(name(part(module, "weight")), w.reshape('c', out, in), b, shared.precision));
    }

    /** The convolution {@code module} ({@code [out, in, k, k]}, zero padding, stride), channels-last; null when checking. */
    public Conv2d conv2d(String module, long out, long in, int k, int stride, int pad, boolean bias) {
        INDArray w = stored(part(module, "weight"), out, in, k, k);
        INDArray b = bias ? get(part(module, "bias"), out) : null;
        if (w == null) return null;
        Conv2d c = new Conv2d(name(part(module, "weight")), w, b, stride, pad, shared.precision);
        shared.layers.add(c::release);
        return c;
    }

    /** A matmul weight {@code [out, in]}. */
    public INDArray linear(String local, long out, long in) {
        return request(Role.LINEAR, local, new long[] {out, in});
    }

    /** A convolution kernel {@code [out, in, kh, kw]}. */
    public INDArray conv(String local, long out, long in, long kh, long kw) {
        return request(Role.CONV, local, new long[] {out, in, kh, kw});
    }

    /** Any other tensor (bias, norm scale, embedding, buffer) of exactly {@code shape}. */
    public INDArray get(String local, long... shape) {
        return request(Role.OTHER, local, shape.clone());
    }

    /**
     * Checks that the tensor exists with {@code shape} but hands nothing out: for a tensor the block reads itself
     * (rows of an embedding table too large to convert whole).
     */
    public void declare(String local, long... shape) {
        find(name(local), shape.clone());
    }

    /** Marks a tensor as deliberately unused (layers a pipeline never runs), so {@link #verify()} accepts it. */
    public void ignore(String local) {
        shared.used.add(name(local));
    }

    /**
     * A matmul or convolution weight in its stored type (a read-only mapping where possible): the oneDNN layers pack
     * it once, in the operand type of their precision, so a bf16 checkpoint is never widened to fp32 first.
     */
    private INDArray stored(String local, long... shape) {
        String full = name(local);
        TensorInfo info = find(full, shape);
        if (info == null || !shared.load) return null;
        INDArray a = shared.source.mappedAsStored(full);
        // a source that cannot map the stored type converts: that copy is ours to free
        if (!"F32".equals(info.dtype()) && a.dataType() == org.nd4j.linalg.api.buffer.DataType.FLOAT) shared.owned.add(a);
        return a;
    }

    private INDArray request(Role role, String local, long[] shape) {
        String full = name(local);
        TensorInfo info = find(full, shape);
        return info != null && shared.load ? fetch(role, full, info) : null;
    }

    /**
     * Records the request; the tensor's header if it exists with the expected shape and a float dtype, else null
     * (problem noted).
     */
    private TensorInfo find(String full, long[] shape) {
        shared.used.add(full);
        shared.requested.put(full, shape);
        if (!shared.source.contains(full)) {
            shared.missing.add(full + " " + Arrays.toString(shape));
            return null;
        }
        TensorInfo info = shared.source.info(full);
        if (!Arrays.equals(info.shape(), shape)) {
            shared.misShaped.add(full + " is " + info.shapeString() + ", expected " + Arrays.toString(shape)
                    + info.inFile());
            return null;
        }
        if (!info.isFloat()) {
            // an integer tensor of a float's byte span (I32 for F32) would otherwise be read as numbers, silently
            shared.wrongDtype.add(full + " is " + info.dtype() + ", a weight must be F32, BF16, F16 or F64"
                    + info.inFile());
            return null;
        }
        return info;
    }

    /**
     * The one place a tensor leaves the source as F32: shared with the source (a read-only mapping or its in-memory
     * array), or a conversion this binder owns and frees on {@link #close()}.
     */
    private INDArray fetch(Role role, String full, TensorInfo info) {
        INDArray a = shared.source.mapped(full);
        if (!"F32".equals(info.dtype())) shared.owned.add(a);
        return a;
    }

    /** Every tensor asked for (including declared ones), with the shape expected, in the order asked. */
    public Map<String, long[]> parameters() {
        return Collections.unmodifiableMap(shared.requested);
    }

    /**
     * Throws one {@link IllegalArgumentException} naming the component, the source and every missing, mis-shaped,
     * non-float and unexpected tensor (one the source holds that no block asked for or ignored), with the file each
     * mis-shaped or non-float one is stored in.
     */
    public void verify() {
        List<String> unexpected = new ArrayList<>();
        for (String n : shared.source.names()) if (!shared.used.contains(n)) unexpected.add(n);
        fail(unexpected);
    }

    /** Like {@link #verify()} for a part of a model (one streamed layer): only what was asked for is checked. */
    public void verifyRequested() {
        fail(List.of());
    }

    private void fail(List<String> unexpected) {
        if (shared.missing.isEmpty() && shared.misShaped.isEmpty() && shared.wrongDtype.isEmpty()
                && unexpected.isEmpty()) {
            return;
        }
        StringBuilder sb = new StringBuilder(shared.component).append(" weights ").append(shared.source)
                .append(" do not match the model:");
        appendList(sb, "missing", shared.missing);
        appendList(sb, "wrong shape", shared.misShaped);
        appendList(sb, "wrong dtype", shared.wrongDtype);
        appendList(sb, "unexpected", unexpected);
        sb.setLength(sb.length() - 1);
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

    /**
     * Frees the converted (non-F32) tensors handed out by this binder and all its scopes, and the packed weights of
     * the layers it made: a streamed block's memory leaves with it. Mappings and in-memory arrays of the source are
     * left alone. Layers used after this pack their weights again.
     */
    @Override
    public void close() {
        shared.layers.forEach(Runnable::run);
        shared.layers.clear();
        long bytes = 0;
        for (INDArray a : shared.owned) {
            bytes += a.length() * 4;
            if (a.closeable()) a.close();
        }
        shared.owned.clear();
        // A streamed real-size block leaves GB of dead temporaries whose native memory ND4J frees only when their
        // Java objects are collected, and a nearly empty heap rarely collects: measured +2.4 GB RSS per vision layer
        // without this, flat 4.2 GiB with it, for 0.22 s per layer.
        if (bytes >= GC_AFTER_BYTES) System.gc();
    }
}
