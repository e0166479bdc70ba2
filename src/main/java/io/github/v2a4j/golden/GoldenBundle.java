package io.github.v2a4j.golden;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import io.github.v2a4j.io.Safetensors;
import io.github.v2a4j.io.SafetensorsException;
import io.github.v2a4j.io.SafetensorsFile;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A golden bundle: what one call of the upstream PyTorch code saw and produced, written by the dump tool in
 * reference-tests/. Files of the directory:
 * <ul>
 *   <li>manifest.json: {@code component}, {@code case}, {@code order} (activation names in execution order),
 *       {@code aliases} (name → canonical name of a bit-identical tensor stored once), {@code tolerance_hints}, ...;
 *   <li>config.json: the component's upstream config (optional: a scheduler or the audio stage may have none);
 *   <li>weights.safetensors: parameters under their upstream names (optional for weightless components);
 *   <li>io.safetensors: the call's inputs and outputs;
 *   <li>activations.safetensors: per-module tensors ({@code <module path>.out}, {@code .in.0}, ...).
 * </ul>
 * Any problem opening it is a {@link BundleException} with a one-line message naming the file.
 */
public final class GoldenBundle implements AutoCloseable {

    private final Path dir;
    private final JsonObject manifest;
    private final JsonObject config;
    private final Safetensors io;
    private final Safetensors activations;
    private final Safetensors weights;
    private final List<String> order;
    private final Map<String, String> aliases;

    private GoldenBundle(Path dir, JsonObject manifest, JsonObject config, Safetensors io, Safetensors activations,
                         Safetensors weights, List<String> order, Map<String, String> aliases) {
        this.dir = dir;
        this.manifest = manifest;
        this.config = config;
        this.io = io;
        this.activations = activations;
        this.weights = weights;
        this.order = order;
        this.aliases = aliases;
    }

    public static GoldenBundle open(Path dir) {
        if (!Files.exists(dir)) throw new BundleException(dir + ": no such bundle directory");
        if (!Files.isDirectory(dir)) throw new BundleException(dir + ": not a directory (a bundle is a directory)");
        JsonObject manifest = readObject(require(dir, "manifest.json"));
        String component = string(manifest, "component", dir.resolve("manifest.json"));
        if (component == null) throw new BundleException(dir.resolve("manifest.json") + ": no \"component\"");
        Path configFile = dir.resolve("config.json");
        JsonObject config = Files.exists(configFile) ? readObject(configFile) : new JsonObject();
        List<Safetensors> opened = new ArrayList<>();
        try {
            Safetensors io = open(require(dir, "io.safetensors"), opened);
            Safetensors acts = open(require(dir, "activations.safetensors"), opened);
            Path weightsFile = dir.resolve("weights.safetensors");
            Safetensors weights = Files.exists(weightsFile) ? open(weightsFile, opened) : null;
            Map<String, String> aliases = aliases(manifest, dir.resolve("manifest.json"), acts);
            List<String> order = order(manifest, dir.resolve("manifest.json"), acts, aliases);
            return new GoldenBundle(dir, manifest, config, io, acts, weights, order, aliases);
        } catch (RuntimeException e) {
            opened.forEach(Safetensors::close);
            throw e;
        }
    }

    public Path dir() {
        return dir;
    }

    /** Which upstream component this bundle exercises ({@code unet}, {@code vae}, ...); picks the validator. */
    public String component() {
        return manifest.get("component").getAsString();
    }

    /** The case name ({@code tiny}, ...), or the directory name if the manifest has none. */
    public String caseName() {
        String c = string(manifest, "case", dir.resolve("manifest.json"));
        return c != null ? c : String.valueOf(dir.getFileName());
    }

    public JsonObject manifest() {
        return manifest;
    }

    /** The component's upstream config.json; empty if the bundle has none. */
    public JsonObject config() {
        return config;
    }

    /** {@code tolerance_hints} of the manifest, as the dump tool wrote it; JsonNull if absent. */
    public JsonElement toleranceHints() {
        JsonElement h = manifest.get("tolerance_hints");
        return h == null ? JsonNull.INSTANCE : h;
    }

    /**
     * The reference's own fp32-vs-fp64 distance (max |fp32 − fp64| / max |fp64|) of the stage that made tensor
     * {@code name} ({@code io:} prefix for io tensors), as the dump recorded it in {@code reference_noise}; empty if
     * the bundle has none for it.
     */
    public java.util.OptionalDouble referenceNoise(String name) {
        JsonElement n = manifest.get("reference_noise");
        if (n == null || !n.isJsonObject() || !n.getAsJsonObject().has(name)) return java.util.OptionalDouble.empty();
        return java.util.OptionalDouble.of(n.getAsJsonObject().get(name).getAsDouble());
    }

    /** The call's inputs and outputs. */
    public Safetensors io() {
        return io;
    }

    /** Per-module tensors as stored (canonical names only; see {@link #activation} for alias lookup). */
    public Safetensors activations() {
        return activations;
    }

    /** Parameters under their upstream names; a {@link BundleException} if the bundle has none. */
    public Safetensors weights() {
        if (weights == null) throw new BundleException(dir + ": bundle has no weights.safetensors");
        return weights;
    }

    /**
     * Every activation name, stored or aliased, in execution order: the manifest's {@code order} first, then names
     * it does not list, sorted.
     */
    public List<String> order() {
        return order;
    }

    public Map<String, String> aliases() {
        return aliases;
    }

    /** The stored name holding {@code name}'s tensor (itself unless it is an alias). */
    public String canonical(String name) {
        return aliases.getOrDefault(name, name);
    }

    public boolean hasActivation(String name) {
        return activations.contains(canonical(name));
    }

    /**
     * A reference activation as a new, writable F32 array, following aliases. A copy because validators also feed
     * recorded activations into submodules, and a model writing into a read-only mapping would kill the JVM.
     */
    public INDArray activation(String name) {
        return activations.loadFloat(canonical(name));
    }

    /** A tensor of io.safetensors (a call input or output) as a new, writable F32 array. */
    public INDArray input(String name) {
        return io.loadFloat(name);
    }

    @Override
    public void close() {
        io.close();
        activations.close();
        if (weights != null) weights.close();
    }

    @Override
    public String toString() {
        return dir.toString();
    }

    private static Path require(Path dir, String name) {
        Path p = dir.resolve(name);
        if (!Files.isRegularFile(p)) throw new BundleException(dir + ": bundle has no " + name);
        return p;
    }

    private static Safetensors open(Path file, List<Safetensors> opened) {
        try {
            SafetensorsFile f = SafetensorsFile.open(file);
            opened.add(f);
            return f;
        } catch (SafetensorsException e) {
            throw new BundleException(e.getMessage(), e);
        }
    }

    private static JsonObject readObject(Path file) {
        try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            JsonReader r = new JsonReader(in);
            r.setStrictness(Strictness.STRICT);
            JsonElement e = new Gson().getAdapter(JsonElement.class).read(r);
            if (r.peek() != JsonToken.END_DOCUMENT) {
                throw new BundleException(file + ": unexpected data after the JSON value");
            }
            if (!e.isJsonObject()) throw new BundleException(file + ": not a JSON object");
            return e.getAsJsonObject();
        } catch (IOException | JsonParseException | IllegalStateException e) {
            throw new BundleException(file + ": broken JSON: " + firstLine(e.getMessage()), e);
        }
    }

    private static String string(JsonObject o, String key, Path file) {
        JsonElement e = o.get(key);
        if (e == null || e.isJsonNull()) return null;
        if (!e.isJsonPrimitive() || !e.getAsJsonPrimitive().isString()) {
            throw new BundleException(file + ": \"" + key + "\" is not a string");
        }
        return e.getAsString();
    }

    private static Map<String, String> aliases(JsonObject manifest, Path file, Safetensors acts) {
        JsonElement e = manifest.get("aliases");
        if (e == null || e.isJsonNull()) return Map.of();
        if (!e.isJsonObject()) throw new BundleException(file + ": \"aliases\" is not an object of names");
        Map<String, String> m = new LinkedHashMap<>();
        for (Map.Entry<String, JsonElement> a : e.getAsJsonObject().entrySet()) {
            JsonElement v = a.getValue();
            if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isString()) {
                throw new BundleException(file + ": alias '" + a.getKey() + "' does not name a tensor");
            }
            if (!acts.contains(v.getAsString())) {
                throw new BundleException(file + ": alias '" + a.getKey() + "' points to '" + v.getAsString()
                        + "', which activations.safetensors does not hold");
            }
            m.put(a.getKey(), v.getAsString());
        }
        return Collections.unmodifiableMap(m);
    }

    private static List<String> order(JsonObject manifest, Path file, Safetensors acts, Map<String, String> aliases) {
        Set<String> order = new LinkedHashSet<>();
        JsonElement e = manifest.get("order");
        if (e != null && !e.isJsonNull()) {
            if (!e.isJsonArray()) throw new BundleException(file + ": \"order\" is not an array of names");
            for (JsonElement n : (JsonArray) e) {
                if (!n.isJsonPrimitive() || !n.getAsJsonPrimitive().isString()) {
                    throw new BundleException(file + ": \"order\" holds " + n + ", not a name");
                }
                String name = n.getAsString();
                if (!acts.contains(name) && !aliases.containsKey(name)) {
                    throw new BundleException(file + ": \"order\" lists '" + name
                            + "', which is neither in activations.safetensors nor an alias");
                }
                order.add(name);
            }
        }
        Set<String> rest = new TreeSet<>(acts.names());
        rest.addAll(aliases.keySet());
        rest.removeAll(order);
        order.addAll(rest);
        return List.copyOf(order);
    }

    static String firstLine(String s) {
        if (s == null) return "";
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
