package io.github.v2a4j.golden;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Tolerances of reduced-precision rows from a bundle's sidecar, written by reference-tests/dump_bf16_reference.py:
 * {@value #BF16_FILE} (UNet, CogVLM2: the reference runs them in bf16) or {@value #FP16_FILE} (VAE: fp16). For every
 * row name of the bundle (activation names in {@code order}, aliases included, and {@code io:<output>}) the sidecar
 * holds the distance of the original code's own low-precision run from its fp32 run on the same case, enveloped over
 * the kernel sets the reference runs on different CPUs. A v2a4j row computed in that precision passes when it is at
 * least as close to the bundle's fp32 tensor as the reference's own bf16 run is:
 * <ul>
 *   <li>over the whole tensor: its cosine with the fp32 tensor is at least the reference's (the relative L2 distance
 *       is no larger), the stable measure of closeness;
 *   <li>at every element: its max |err| / max |ref| is at most the reference's plus {@link #OUTPUT_ROUNDING}. The max
 *       over elements of two nearly equal error fields is a coin toss between them: the reference's bf16 outputs
 *       carry one more rounding, which at the arg-max element may as well cancel part of the shared error as add
 *       to it.
 * </ul>
 * Rows the reference computes in fp32 or exactly even in its bf16 run (distance 0: ids, the timestep embedding) keep
 * {@link Tolerance#FP32}, the same fp32-against-fp32 allowance as in fp32 mode.
 */
public final class Bf16Reference {

    public static final String BF16_FILE = "bf16_reference.json";
    public static final String FP16_FILE = "fp16_reference.json";

    private static final int FORMAT = 1;

    /**
     * Half an ulp of bf16 relative to the value, 2^-9: the rounding every bf16 output of the reference carries and an
     * fp32 output does not. Where the reference's error at an element is partly that rounding, an fp32 result of the
     * same products can be up to this much further from the fp32 reference at that element while being closer
     * over the whole tensor, which the cosine bound checks.
     */
    static final double OUTPUT_ROUNDING = 0x1p-9;

    /**
     * How much one row's 1 - cosine may exceed the reference's. A single tensor's distance is one draw from a wide
     * distribution: the reference itself, run with its AVX2 kernels instead of its AVX512-BF16 ones, moved single
     * rows by 0.56–1.9×, and over the 16 video attentions of unet-tiny v2a4j's bf16 lands at 0.16–1.33× the
     * reference's (geometric mean 0.62). The bundle as a whole must still be at least as close: see {@link #judge}.
     */
    static final double ROW_SCATTER = 2;

    private Bf16Reference() {}

    /** The tolerances of {@value #BF16_FILE} in {@code bundleDir}, by row name, in the file's order. */
    public static Map<String, Tolerance> read(Path bundleDir) {
        return read(bundleDir, BF16_FILE);
    }

    /** The tolerances of the sidecar {@code fileName} ({@value #BF16_FILE} or {@value #FP16_FILE}). */
    public static Map<String, Tolerance> read(Path bundleDir, String fileName) {
        Path file = bundleDir.resolve(fileName);
        if (!Files.isRegularFile(file)) throw new BundleException(bundleDir + ": bundle has no " + fileName);
        JsonObject root = parse(file);
        JsonElement format = root.get("format");
        if (format == null || !format.isJsonPrimitive() || format.getAsDouble() != FORMAT) {
            throw new BundleException(file + ": \"format\" is " + format + ", expected " + FORMAT);
        }
        String dtype = text(root, "dtype", file);
        JsonObject runtime = object(root, "runtime", file);
        JsonObject cpu = object(root, "cpu", file);
        String source = String.format(Locale.ROOT, "reference %s vs fp32 on this case (torch %s, %s family %s)",
                dtype, text(runtime, "torch", file), text(cpu, "model_name", file), text(cpu, "family", file));
        Map<String, Tolerance> out = new LinkedHashMap<>();
        for (Map.Entry<String, JsonElement> row : object(root, "rows", file).entrySet()) {
            double[] d = distances(row.getKey(), row.getValue(), file);
            double rel = d[1], cosine = d[2];
            if (rel <= Tolerance.FP32.maxRelToMax()) {
                out.put(row.getKey(), new Tolerance(Tolerance.FP32.maxRelToMax(), source + String.format(Locale.ROOT,
                        ": %.3g, below the fp32 tolerance, which applies", rel)));
            } else {
                out.put(row.getKey(), new Tolerance(rel + OUTPUT_ROUNDING, 1 - ROW_SCATTER * (1 - cosine),
                        source + String.format(Locale.ROOT, ": max|err|/max|ref| %.3g plus the half-ulp rounding of "
                        + "its %s outputs; 1 - cosine %.3g, ×%.0f for one row's scatter", rel, dtype, 1 - cosine,
                        ROW_SCATTER)));
            }
        }
        if (out.isEmpty()) throw new BundleException(file + ": no rows");
        return Collections.unmodifiableMap(out);
    }

    /**
     * The whole-bundle conditions of a bf16 comparison, added to {@code report}: over every row the reference
     * computes in reduced precision, v2a4j's relative L2 distance from the fp32 tensor (1 - cosine) is on average no
     * larger than the reference's own (geometric mean of the ratios ≤ 1), and at the call's outputs ({@code io:})
     * it is no larger at all: at least as close to the fp32 reference as the reference's own bf16 run is.
     */
    public static ComparisonReport judge(ComparisonReport report, Path bundleDir, String fileName) {
        JsonObject rows = object(parse(bundleDir.resolve(fileName)), "rows", bundleDir.resolve(fileName));
        double logSum = 0;
        int n = 0;
        for (ComparisonReport.Row r : report.rows()) {
            JsonElement v = rows.get(r.name());
            if (v == null || Double.isNaN(r.cosine())) continue;
            double[] d = distances(r.name(), v, bundleDir.resolve(fileName));
            if (d[1] <= Tolerance.FP32.maxRelToMax() || d[2] >= 1) continue;
            double ratio = Math.max(1 - r.cosine(), 1e-12) / (1 - d[2]);
            logSum += Math.log(ratio);
            n++;
            if (r.name().startsWith("io:")) {
                report = report.withCheck(new ComparisonReport.Check(r.name() + " 1 - cosine, v2a4j / reference",
                        ratio, 1, "a call output: at least as close to the fp32 output as the reference's own"));
            }
        }
        if (n == 0) throw new BundleException(bundleDir + ": no reduced-precision row was compared");
        return report.withCheck(new ComparisonReport.Check("geometric mean over " + n
                + " rows of 1 - cosine, v2a4j / reference", Math.exp(logSum / n), 1,
                "on the whole, at least as close to the fp32 tensors as the reference's own"));
    }

    /** {@link #judge(ComparisonReport, Path, String)} with {@value #BF16_FILE}. */
    public static ComparisonReport judge(ComparisonReport report, Path bundleDir) {
        return judge(report, bundleDir, BF16_FILE);
    }

    /** rows[name] = [max |err|, max |err| / max |ref|, cosine]. */
    private static double[] distances(String name, JsonElement v, Path file) {
        if (!v.isJsonArray() || ((JsonArray) v).size() != 3) {
            throw new BundleException(file + ": row '" + name + "' is " + v + ", not [max_abs, max_rel_to_max, cosine]");
        }
        for (JsonElement x : (JsonArray) v) {
            if (!x.isJsonPrimitive() || !x.getAsJsonPrimitive().isNumber()) {
                throw new BundleException(file + ": row '" + name + "' holds " + x + ", not a number");
            }
        }
        double rel = ((JsonArray) v).get(1).getAsDouble();
        if (!(rel >= 0) || Double.isInfinite(rel)) {
            throw new BundleException(file + ": row '" + name + "' has max_rel_to_max " + rel);
        }
        double cosine = ((JsonArray) v).get(2).getAsDouble();
        if (!(cosine >= -1 && cosine <= 1)) throw new BundleException(file + ": row '" + name + "' has cosine " + cosine);
        return new double[] {((JsonArray) v).get(0).getAsDouble(), rel, cosine};
    }

    private static JsonObject parse(Path file) {
        try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            JsonElement e = JsonParser.parseReader(in);
            if (!e.isJsonObject()) throw new BundleException(file + ": not a JSON object");
            return e.getAsJsonObject();
        } catch (IOException | JsonParseException e) {
            throw new BundleException(file + ": broken JSON: " + e.getMessage(), e);
        }
    }

    private static JsonObject object(JsonObject o, String key, Path file) {
        JsonElement e = o.get(key);
        if (e == null || !e.isJsonObject()) throw new BundleException(file + ": no object \"" + key + "\"");
        return e.getAsJsonObject();
    }

    private static String text(JsonObject o, String key, Path file) {
        JsonElement e = o.get(key);
        if (e == null || !e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
            throw new BundleException(file + ": no string \"" + key + "\"");
        }
        return e.getAsString();
    }
}
