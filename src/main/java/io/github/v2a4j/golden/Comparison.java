package io.github.v2a4j.golden;

import io.github.v2a4j.nn.Trace;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Compares tensors the Java side produced with a bundle's references, name by name, in the bundle's execution order.
 *
 * <pre>{@code
 * Trace trace = Trace.all();
 * INDArray out = unet.forward(..., trace);
 * return Comparison.of(bundle).tolerance(name -> Tolerance.FP32)
 *         .compare(trace.recorded(), Map.of("out", out));
 * }</pre>
 *
 * Metrics per tensor (computed in double): max |a - r|, max |r|, their ratio (the pass criterion: it does not blow up
 * where the reference crosses zero, unlike an element-wise relative error), and cosine similarity (a direction check
 * that shows whether a failure is a scale error or garbage).
 */
public final class Comparison {

    /** Prefix of rows comparing the call's outputs (io.safetensors) rather than activations. */
    public static final String IO_PREFIX = "io:";

    private final GoldenBundle bundle;
    private Function<String, Tolerance> tolerance = name -> Tolerance.FP32;
    private final Map<String, String> notProduced = new LinkedHashMap<>();

    private Comparison(GoldenBundle bundle) {
        this.bundle = bundle;
    }

    public static Comparison of(GoldenBundle bundle) {
        return new Comparison(bundle);
    }

    /**
     * The tolerance of each row, by name (io rows are named {@code io:<name>}); default {@link Tolerance#FP32} for
     * every tensor. A function returning null means the default.
     */
    public Comparison tolerance(Function<String, Tolerance> tolerance) {
        this.tolerance = Objects.requireNonNull(tolerance);
        return this;
    }

    /**
     * Reference tensors this side does not produce on purpose (glob patterns, {@code *} and {@code ?}), with the
     * reason: for example module inputs, which are earlier modules' outputs. Every other reference tensor that is not
     * produced makes the report fail, so a model that stops reporting a layer cannot pass with fewer rows.
     */
    public Comparison notProduced(String reason, String... globs) {
        if (reason == null || reason.isBlank()) throw new IllegalArgumentException("a skipped tensor needs a reason");
        for (String g : globs) notProduced.put(g, reason);
        return this;
    }

    public ComparisonReport compare(Trace trace) {
        return compare(trace.recorded(), Map.of());
    }

    public ComparisonReport compare(Map<String, INDArray> activations) {
        return compare(activations, Map.of());
    }

    /**
     * {@code activations} against activations.safetensors (aliases resolved), then {@code outputs} against
     * io.safetensors.
     */
    public ComparisonReport compare(Map<String, INDArray> activations, Map<String, INDArray> outputs) {
        List<ComparisonReport.Row> rows = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        Map<String, Integer> skipped = new LinkedHashMap<>();
        List<Map.Entry<Pattern, String>> skip = new ArrayList<>();
        notProduced.forEach((g, reason) -> skip.add(Map.entry(Pattern.compile(Trace.globToRegex(g)), reason)));
        for (String name : bundle.order()) {
            INDArray a = activations.get(name);
            if (a == null) {
                String reason = skipReason(skip, name);
                if (reason != null) skipped.merge(reason, 1, Integer::sum);
                else missing.add(name);
                continue;
            }
            String canonical = bundle.canonical(name);
            // Read-only mapping is fine here: the reference is only read.
            rows.add(measure(name, canonical.equals(name) ? null : canonical, a, bundle.activations().mapped(canonical),
                    toleranceOf(name)));
        }
        TreeSet<String> ignored = new TreeSet<>();
        for (String name : activations.keySet()) if (!bundle.hasActivation(name)) ignored.add(name);
        for (Map.Entry<String, INDArray> e : outputs.entrySet()) {
            String name = e.getKey();
            if (!bundle.io().contains(name)) {
                ignored.add(IO_PREFIX + name);
                continue;
            }
            rows.add(measure(IO_PREFIX + name, null, e.getValue(), bundle.io().mapped(name),
                    toleranceOf(IO_PREFIX + name)));
        }
        return new ComparisonReport(bundle.component(), bundle.caseName(), rows, missing, skipped,
                List.copyOf(ignored));
    }

    private static String skipReason(List<Map.Entry<Pattern, String>> skip, String name) {
        for (Map.Entry<Pattern, String> e : skip) if (e.getKey().matcher(name).matches()) return e.getValue();
        return null;
    }

    private Tolerance toleranceOf(String name) {
        Tolerance t = tolerance.apply(name);
        return t != null ? t : Tolerance.FP32;
    }

    /**
     * One row: shapes must match exactly; non-finite values count as an infinite error unless both sides hold the
     * same one (NaN where the reference has NaN, the same infinity).
     */
    public static ComparisonReport.Row measure(String name, String canonical, INDArray actual, INDArray ref,
                                               Tolerance tol) {
        long[] shape = actual.shape();
        long[] refShape = ref.shape();
        if (!Arrays.equals(shape, refShape)) {
            return new ComparisonReport.Row(name, canonical, shape, refShape, Double.NaN, Double.NaN, Double.NaN,
                    Double.NaN, tol, false, "shape " + Arrays.toString(shape) + " vs reference "
                    + Arrays.toString(refShape));
        }
        float[] a = flat(actual);
        float[] r = flat(ref);
        double maxErr = 0;
        double maxRef = 0;
        double dot = 0;
        double na = 0;
        double nr = 0;
        long nonFinite = 0;
        for (int i = 0; i < a.length; i++) {
            double x = a[i];
            double y = r[i];
            if (Double.isFinite(y)) maxRef = Math.max(maxRef, Math.abs(y));
            if (!Double.isFinite(x) || !Double.isFinite(y)) {
                boolean same = x == y || (Double.isNaN(x) && Double.isNaN(y));
                if (!same) {
                    nonFinite++;
                    maxErr = Double.POSITIVE_INFINITY;
                }
                continue;
            }
            maxErr = Math.max(maxErr, Math.abs(x - y));
            dot += x * y;
            na += x * x;
            nr += y * y;
        }
        double rel = maxErr == 0 ? 0 : maxErr / maxRef; // maxRef 0 with an error: infinite
        double cosine = na == 0 && nr == 0 ? 1 : (na == 0 || nr == 0 ? 0 : dot / Math.sqrt(na * nr));
        boolean passed = rel <= tol.maxRelToMax() && cosine >= tol.minCosine();
        String note = nonFinite > 0 ? nonFinite + " non-finite values differ" : "";
        return new ComparisonReport.Row(name, canonical, shape, refShape, maxErr, maxRef, rel, cosine, tol, passed,
                note);
    }

    private static float[] flat(INDArray x) {
        if (x.length() == 0) return new float[0];
        INDArray f = x.dataType() == DataType.FLOAT ? x : x.castTo(DataType.FLOAT);
        return f.dup('c').data().asFloat();
    }
}
