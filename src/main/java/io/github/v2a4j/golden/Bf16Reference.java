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
 * holds the distance of the original code's own low-precision run from its fp32 run on the same case. A v2a4j row
 * computed in that precision passes when its max |err| / max |ref| against the bundle's fp32 tensors is at most that
 * distance: at least as close to the fp32 reference as the reference's own bf16 is. Rows the reference computes in
 * fp32 or exactly even in its bf16 run (distance 0: ids, the timestep embedding) keep {@link Tolerance#FP32}, the
 * same fp32-against-fp32 allowance as in fp32 mode.
 */
public final class Bf16Reference {

    public static final String BF16_FILE = "bf16_reference.json";
    public static final String FP16_FILE = "fp16_reference.json";

    private static final int FORMAT = 1;

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
            double rel = relToMax(row.getKey(), row.getValue(), file);
            out.put(row.getKey(), rel > Tolerance.FP32.maxRelToMax()
                    ? new Tolerance(rel, source)
                    : new Tolerance(Tolerance.FP32.maxRelToMax(), source + String.format(Locale.ROOT,
                    ": %.3g, below the fp32 tolerance, which applies", rel)));
        }
        if (out.isEmpty()) throw new BundleException(file + ": no rows");
        return Collections.unmodifiableMap(out);
    }

    /** rows[name] = [max |err|, max |err| / max |ref|, cosine]; the second one is the tolerance. */
    private static double relToMax(String name, JsonElement v, Path file) {
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
        return rel;
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
