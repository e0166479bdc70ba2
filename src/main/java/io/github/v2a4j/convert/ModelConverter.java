package io.github.v2a4j.convert;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import io.github.v2a4j.io.Dtype;
import io.github.v2a4j.io.Finite;
import io.github.v2a4j.io.Safetensors;
import io.github.v2a4j.io.SafetensorsException;
import io.github.v2a4j.io.SafetensorsStreamWriter;
import io.github.v2a4j.io.TensorInfo;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Turns the Hugging Face folders of {@code ai-forever/kandinsky-4-v2a} (unet/, vae/, scheduler/) and
 * {@code THUDM/cogvlm2-video-llama3-chat} into one v2a4j model directory:
 * <pre>
 *   unet/     config.json, model.safetensors (or model-0000i-of-0000n.safetensors + model.safetensors.index.json)
 *   vae/      config.json, weights (decoder + post_quant_conv only)
 *   scheduler/scheduler_config.json
 *   cogvlm/   config.json, tokenizer.json, tokenizer_config.json, weights (without LLM layer 31, model.norm, lm_head)
 *   manifest.json   sha256 and size of every file
 * </pre>
 * Every tensor name and shape is checked against the manifests in {@code weights-converter/} (shapes evaluated from
 * each component's config.json) before anything is written, and all problems are reported in one error. Reading,
 * dtype conversion and writing are {@code io}'s: tensors are streamed one at a time through
 * {@link Safetensors#stream} into a {@link SafetensorsStreamWriter}, so checkpoints larger than memory convert. The
 * directory is assembled under a temporary name beside {@code out} and renamed into place when complete.
 */
public final class ModelConverter {

    /** Output dtype of floating-point tensors. */
    public enum OutDtype { F32, BF16, KEEP }

    /**
     * @param shardBytes largest output weight file; bigger components are split into shards with an index
     */
    public record Options(Path kandinsky, Path cogvlm, Path out, OutDtype dtype, long shardBytes) {
        public Options(Path kandinsky, Path cogvlm, Path out, OutDtype dtype) {
            this(kandinsky, cogvlm, out, dtype, DEFAULT_SHARD_BYTES);
        }
    }

    /** What one component became. */
    public record ComponentResult(String name, int written, int dropped, long bytes) {}

    public static final long DEFAULT_SHARD_BYTES = 4L << 30;
    public static final String MANIFEST = "manifest.json";
    static final String WEIGHTS = "diffusion_pytorch_model.safetensors";
    static final String COGVLM_WEIGHTS = "model.safetensors";
    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create();

    /** The diffusers spelling of the VAE mid-block attention in old SD checkpoints → the current names. */
    static final Map<String, String> VAE_LEGACY = Map.of(
            "decoder.mid_block.attentions.0.query.", "decoder.mid_block.attentions.0.to_q.",
            "decoder.mid_block.attentions.0.key.", "decoder.mid_block.attentions.0.to_k.",
            "decoder.mid_block.attentions.0.value.", "decoder.mid_block.attentions.0.to_v.",
            "decoder.mid_block.attentions.0.proj_attn.", "decoder.mid_block.attentions.0.to_out.0.");

    private ModelConverter() {}

    private record Component(String name, Path srcDir, String preferred, ExpectedTensors expected,
                             Map<String, Long> symbols, List<String> files, List<String> optionalFiles) {}

    /** One tensor of the model directory: its name there, its name in the source, and its shape there. */
    private record Planned(String name, String sourceName, Dtype stored, long[] shape) {
        long elements() {
            long n = 1;
            for (long d : shape) n *= d;
            return n;
        }
    }

    private record Plan(Component component, Safetensors source, List<Planned> tensors, int dropped) {}

    public static List<ComponentResult> convert(Options o, PrintStream log) {
        Path out = o.out().toAbsolutePath().normalize();
        checkOutput(out);
        Path k4 = o.kandinsky();
        Path cog = o.cogvlm();
        Path cogConfig = cog.resolve("config.json");
        requireFile(cogConfig);
        Map<String, Long> cogSymbols = ConfigSymbols.cogvlm(ConfigSymbols.readJson(cogConfig), cogConfig);
        Path unetConfig = k4.resolve("unet/config.json");
        Path vaeConfig = k4.resolve("vae/config.json");
        requireFile(unetConfig);
        requireFile(vaeConfig);
        requireFile(k4.resolve("scheduler/scheduler_config.json"));
        List<Component> comps = List.of(
                new Component("unet", k4.resolve("unet"), WEIGHTS, ExpectedTensors.load(ExpectedTensors.UNET),
                        ConfigSymbols.unet(ConfigSymbols.readJson(unetConfig), cogSymbols.get("hidden"), unetConfig),
                        List.of("config.json"), List.of()),
                new Component("vae", k4.resolve("vae"), WEIGHTS, ExpectedTensors.load(ExpectedTensors.VAE),
                        ConfigSymbols.vae(ConfigSymbols.readJson(vaeConfig), vaeConfig), List.of("config.json"), List.of()),
                new Component("cogvlm", cog, COGVLM_WEIGHTS, ExpectedTensors.cogvlm(cogSymbols), cogSymbols,
                        List.of("config.json", "tokenizer.json", "tokenizer_config.json"),
                        List.of("special_tokens_map.json", "generation_config.json")));
        for (Component c : comps) for (String f : c.files()) requireFile(c.srcDir().resolve(f));

        List<Plan> plans = new ArrayList<>();
        try {
            return convert(o, out, comps, plans, log);
        } catch (SafetensorsException | UncheckedIOException e) {
            throw new ConvertException(e.getMessage(), e);
        } finally {
            plans.forEach(p -> p.source().close());
        }
    }

    private static List<ComponentResult> convert(Options o, Path out, List<Component> comps, List<Plan> plans,
                                                 PrintStream log) {
        Path k4 = o.kandinsky();
        Path cog = o.cogvlm();
        // 1. check everything, report all problems at once
        List<String> problems = new ArrayList<>();
        long totalBytes = 0;
        for (Component c : comps) {
            Plan p = check(c, Safetensors.openFolder(c.srcDir(), c.preferred()), problems);
            plans.add(p);
            for (Planned t : p.tensors()) totalBytes += t.elements() * outDtype(t.stored(), o.dtype()).size();
        }
        if (!problems.isEmpty()) {
            throw new ConvertException("checkpoint check failed (" + problems.size() + " problems, nothing written): "
                    + String.join("; ", problems));
        }
        checkSpace(out, totalBytes);

        // 2. write under a temporary name, then rename
        Path tmp = out.resolveSibling("." + out.getFileName() + ".partial-" + ProcessHandle.current().pid());
        List<ComponentResult> results = new ArrayList<>();
        boolean done = false;
        try {
            removeAbandoned(out);
            Files.createDirectories(tmp);
            Map<String, JsonObject> files = new TreeMap<>();
            for (Plan p : plans) {
                Component c = p.component();
                Path dir = Files.createDirectories(tmp.resolve(c.name()));
                for (String f : c.files()) copy(c.srcDir().resolve(f), dir.resolve(f), c.name() + "/" + f, files);
                for (String f : c.optionalFiles()) {
                    if (Files.isRegularFile(c.srcDir().resolve(f))) {
                        copy(c.srcDir().resolve(f), dir.resolve(f), c.name() + "/" + f, files);
                    }
                }
                long t0 = System.nanoTime();
                long bytes = writeShards(p, o.dtype(), o.shardBytes(), dir, c.name(), files, log);
                results.add(new ComponentResult(c.name(), p.tensors().size(), p.dropped(), bytes));
                log.printf(Locale.ROOT, "%-9s %4d tensors written, %3d dropped, %7.2f GB in %.1f s%n", c.name(),
                        p.tensors().size(), p.dropped(), bytes / 1e9, (System.nanoTime() - t0) / 1e9);
            }
            Path sched = Files.createDirectories(tmp.resolve("scheduler"));
            copy(k4.resolve("scheduler/scheduler_config.json"), sched.resolve("scheduler_config.json"),
                    "scheduler/scheduler_config.json", files);

            JsonObject m = new JsonObject();
            m.addProperty("format", "v2a4j-model");
            m.addProperty("version", 1);
            m.addProperty("dtype", o.dtype().name().toLowerCase(Locale.ROOT));
            JsonObject src = new JsonObject();
            src.addProperty("kandinsky", k4.toAbsolutePath().normalize().toString());
            src.addProperty("cogvlm", cog.toAbsolutePath().normalize().toString());
            m.add("sources", src);
            JsonObject fs = new JsonObject();
            files.forEach(fs::add);
            m.add("files", fs);
            Files.writeString(tmp.resolve(MANIFEST), GSON.toJson(m) + "\n");

            if (Files.isDirectory(out)) Files.delete(out); // empty (checked above); rename needs it gone
            try {
                Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, out);
            }
            done = true;
            return results;
        } catch (IOException e) {
            throw new ConvertException(out + ": cannot write the model directory (" + e.getMessage() + ")", e);
        } finally {
            if (!done) {
                try {
                    deleteTree(tmp);
                } catch (IOException ignored) {
                    // best effort; the name starts with '.' and says partial
                }
            }
        }
    }

    /** Rechecks every file listed in {@code manifest.json}: present, same size, same sha256; nothing unlisted. */
    public static int verify(Path modelDir) {
        Path mf = modelDir.resolve(MANIFEST);
        if (!Files.isRegularFile(mf)) throw new ConvertException(modelDir + ": no " + MANIFEST + " (not a converted model directory)");
        JsonObject m = ConfigSymbols.readJson(mf);
        if (!m.has("files") || !m.get("files").isJsonObject()) throw new ConvertException(mf + ": no files list");
        List<String> problems = new ArrayList<>();
        Map<String, JsonElement> listed = new TreeMap<>();
        m.getAsJsonObject("files").entrySet().forEach(e -> listed.put(e.getKey(), e.getValue()));
        for (var e : listed.entrySet()) {
            Path f = modelDir.resolve(e.getKey());
            JsonObject want = e.getValue().getAsJsonObject();
            if (!Files.isRegularFile(f)) {
                problems.add(e.getKey() + " missing");
                continue;
            }
            try {
                long size = Files.size(f);
                if (size != want.get("bytes").getAsLong()) {
                    problems.add(e.getKey() + " has " + size + " bytes, manifest says " + want.get("bytes").getAsLong());
                    continue;
                }
                String sha = sha256(f);
                if (!sha.equals(want.get("sha256").getAsString())) problems.add(e.getKey() + " sha256 differs");
            } catch (IOException ex) {
                problems.add(e.getKey() + " unreadable (" + ex.getMessage() + ")");
            }
        }
        try (Stream<Path> s = Files.walk(modelDir)) {
            s.filter(Files::isRegularFile).map(p -> modelDir.relativize(p).toString().replace('\\', '/'))
                    .filter(r -> !r.equals(MANIFEST) && !listed.containsKey(r)).sorted()
                    .forEach(r -> problems.add(r + " not in the manifest"));
        } catch (IOException e) {
            problems.add("cannot list the directory (" + e.getMessage() + ")");
        }
        if (!problems.isEmpty()) {
            throw new ConvertException(modelDir + ": verification failed (" + problems.size() + " problems): "
                    + String.join("; ", problems));
        }
        return listed.size();
    }

    // ---- checking -------------------------------------------------------------------------------------------------

    private static Plan check(Component c, Safetensors src, List<String> problems) {
        ExpectedTensors ex = c.expected();
        Map<String, TensorInfo> byName = new LinkedHashMap<>();
        int dropped = 0;
        for (String n : src.names()) {
            String name = c.name().equals("vae") ? vaeName(n) : n;
            if (ex.dropsByPrefix(name)) {
                dropped++;
                continue;
            }
            TensorInfo prev = byName.put(name, src.info(n));
            if (prev != null) problems.add(c.name() + ": " + name + " present under two names");
        }
        List<String> missing = new ArrayList<>();
        List<String> misshaped = new ArrayList<>();
        List<Planned> keep = new ArrayList<>();
        for (ExpectedTensors.Entry e : ex.entries()) {
            TensorInfo t = byName.remove(e.name());
            if (t == null) {
                if (e.keep()) missing.add(e.name());
                continue;
            }
            long[] want = ExpectedTensors.shape(e, c.symbols());
            if (!Arrays.equals(t.shape(), want) && !isLegacyLinear(e.name(), t.shape(), want)) {
                misshaped.add(e.name() + " " + t.shapeString() + " expected " + Arrays.toString(want));
                continue;
            }
            if (e.keep()) keep.add(new Planned(e.name(), t.name(), Dtype.parse(t.dtype()), want));
            else dropped++;
        }
        if (!missing.isEmpty()) {
            problems.add(c.name() + " (" + c.srcDir() + "): " + missing.size() + " missing: " + String.join(", ", missing));
        }
        if (!byName.isEmpty()) {
            problems.add(c.name() + " (" + c.srcDir() + "): " + byName.size() + " unexpected: "
                    + String.join(", ", byName.keySet()));
        }
        if (!misshaped.isEmpty()) {
            problems.add(c.name() + " (" + c.srcDir() + "): " + misshaped.size() + " mis-shaped: "
                    + String.join(", ", misshaped));
        }
        return new Plan(c, src, keep, dropped);
    }

    static String vaeName(String name) {
        for (var e : VAE_LEGACY.entrySet()) {
            if (name.startsWith(e.getKey())) return e.getValue() + name.substring(e.getKey().length());
        }
        return name;
    }

    /** Old SD VAE files store the mid attention projections as 1×1 convs [C,C,1,1]; diffusers squeezes them. */
    private static boolean isLegacyLinear(String name, long[] s, long[] want) {
        return name.startsWith("decoder.mid_block.attentions.0.") && want.length == 2 && s.length == 4
                && s[0] == want[0] && s[1] == want[1] && s[2] == 1 && s[3] == 1;
    }

    // ---- writing --------------------------------------------------------------------------------------------------

    private static Dtype outDtype(Dtype stored, OutDtype d) {
        if (d == OutDtype.KEEP || !stored.isFloat()) return stored;
        return d == OutDtype.F32 ? Dtype.F32 : Dtype.BF16;
    }

    private static long writeShards(Plan plan, OutDtype dtype, long shardBytes, Path dir, String rel,
                                    Map<String, JsonObject> files, PrintStream log) throws IOException {
        List<List<Planned>> shards = new ArrayList<>();
        List<Planned> cur = new ArrayList<>();
        long curBytes = 0;
        for (Planned t : plan.tensors()) {
            long b = t.elements() * outDtype(t.stored(), dtype).size();
            if (!cur.isEmpty() && curBytes + b > shardBytes) {
                shards.add(cur);
                cur = new ArrayList<>();
                curBytes = 0;
            }
            cur.add(t);
            curBytes += b;
        }
        if (!cur.isEmpty() || shards.isEmpty()) shards.add(cur);
        Map<String, String> weightMap = new LinkedHashMap<>();
        long total = 0;
        for (int i = 0; i < shards.size(); i++) {
            String name = shards.size() == 1 ? "model.safetensors"
                    : String.format(Locale.ROOT, "model-%05d-of-%05d.safetensors", i + 1, shards.size());
            total += writeFile(plan.source(), shards.get(i), dtype, dir.resolve(name), rel + "/" + name, files, log);
            for (Planned t : shards.get(i)) weightMap.put(t.name(), name);
        }
        if (shards.size() > 1) {
            JsonObject idx = new JsonObject();
            JsonObject meta = new JsonObject();
            meta.addProperty("total_size", total);
            idx.add("metadata", meta);
            JsonObject wm = new JsonObject();
            weightMap.forEach(wm::addProperty);
            idx.add("weight_map", wm);
            Path p = dir.resolve("model.safetensors.index.json");
            Files.writeString(p, GSON.toJson(idx) + "\n");
            record(p, rel + "/model.safetensors.index.json", files);
        }
        return total;
    }

    /** A progress line at least this often while a file is written (a 4 GB file takes 10-60 s). */
    private static final long PROGRESS_NANOS = 20_000_000_000L;

    /**
     * One safetensors file, each tensor streamed (and converted) from the source; returns its data bytes. Logs a line
     * when the file is done and one every {@link #PROGRESS_NANOS} before.
     */
    private static long writeFile(Safetensors source, List<Planned> tensors, OutDtype dtype, Path file, String rel,
                                  Map<String, JsonObject> files, PrintStream log) throws IOException {
        Map<String, SafetensorsStreamWriter.Spec> specs = new LinkedHashMap<>();
        Map<String, Planned> byName = new LinkedHashMap<>();
        long bytes = 0;
        for (Planned t : tensors) {
            SafetensorsStreamWriter.Spec spec = new SafetensorsStreamWriter.Spec(outDtype(t.stored(), dtype), t.shape());
            specs.put(t.name(), spec);
            byName.put(t.name(), t);
            bytes += spec.bytes();
        }
        long t0 = System.nanoTime();
        long lastLine = t0;
        long done = 0;
        int count = 0;
        try (SafetensorsStreamWriter w = new SafetensorsStreamWriter(file, specs, Map.of("format", "pt"))) {
            for (String n : w.dataOrder()) {
                Planned t = byName.get(n);
                Dtype d = specs.get(n).dtype();
                long[] seen = {0};
                source.stream(t.sourceName(), d, piece -> {
                    checkFinite(source, t, d, piece, seen[0]);
                    seen[0] += piece.remaining() / d.size();
                    w.append(n, piece);
                });
                done += specs.get(n).bytes();
                count++;
                long now = System.nanoTime();
                if (now - lastLine >= PROGRESS_NANOS && count < tensors.size()) {
                    lastLine = now;
                    log.printf(Locale.ROOT, "  %s: %.2f of %.2f GB, %d of %d tensors, %.0f s%n", rel, done / 1e9,
                            bytes / 1e9, count, tensors.size(), (now - t0) / 1e9);
                }
            }
            w.commit();
            double sec = (System.nanoTime() - t0) / 1e9;
            log.printf(Locale.ROOT, "  %s: %.2f GB, %d tensors in %.1f s (%.0f MB/s)%n", rel, bytes / 1e9,
                    tensors.size(), sec, bytes / 1e6 / Math.max(sec, 1e-3));
            JsonObject r = new JsonObject();
            r.addProperty("bytes", Files.size(file));
            r.addProperty("sha256", w.sha256());
            files.put(rel, r);
        }
        return bytes;
    }

    /**
     * A NaN or Inf weight is refused while it streams past, as written (a conversion that overflows counts too): it
     * would run to the end and make plausible noise.
     */
    private static void checkFinite(Safetensors source, Planned t, Dtype d, ByteBuffer piece, long firstElement) {
        long bad = Finite.firstNonFinite(piece, d);
        if (bad < 0) return;
        TensorInfo info = source.info(t.sourceName());
        throw new ConvertException(info.file() + ": tensor '" + t.sourceName() + "' holds "
                + Finite.describe(piece, d, bad) + " at element " + (firstElement + bad) + " of " + t.elements() + " "
                + Arrays.toString(t.shape()) + " (nothing written): the checkpoint is damaged; download it again");
    }

    // ---- files ----------------------------------------------------------------------------------------------------

    private static void checkOutput(Path out) {
        if (Files.exists(out)) {
            boolean empty;
            try (Stream<Path> s = Files.list(out)) {
                empty = s.findAny().isEmpty();
            } catch (IOException e) {
                throw new ConvertException(out + ": output exists and is not a directory");
            }
            if (!empty) throw new ConvertException(out + ": output directory exists and is not empty");
        }
        Path parent = out.getParent();
        if (parent == null || !Files.isDirectory(parent)) throw new ConvertException(out + ": parent directory does not exist");
    }

    /** Deletes {@code .NAME.partial-PID} directories left by converter runs that were killed (PID no longer alive). */
    private static void removeAbandoned(Path out) throws IOException {
        String prefix = "." + out.getFileName() + ".partial-";
        try (Stream<Path> s = Files.list(out.getParent())) {
            for (Path p : s.filter(q -> q.getFileName().toString().startsWith(prefix)).toList()) {
                String pid = p.getFileName().toString().substring(prefix.length());
                boolean alive;
                try {
                    long id = Long.parseLong(pid);
                    alive = id != ProcessHandle.current().pid() && ProcessHandle.of(id).map(ProcessHandle::isAlive).orElse(false);
                } catch (NumberFormatException e) {
                    continue; // not ours
                }
                if (!alive) deleteTree(p);
            }
        }
    }

    private static void checkSpace(Path out, long bytes) {
        try {
            long free = Files.getFileStore(out.getParent()).getUsableSpace();
            if (free < bytes + (64L << 20)) {
                throw new ConvertException(String.format(Locale.ROOT, "%s: needs %.2f GB, only %.2f GB free",
                        out, bytes / 1e9, free / 1e9));
            }
        } catch (IOException e) {
            // unknown free space: try anyway
        }
    }

    private static void requireFile(Path p) {
        if (!Files.isRegularFile(p)) throw new ConvertException(p + ": missing");
    }

    private static void copy(Path from, Path to, String rel, Map<String, JsonObject> files) throws IOException {
        Files.copy(from, to);
        record(to, rel, files);
    }

    private static void record(Path p, String rel, Map<String, JsonObject> files) throws IOException {
        JsonObject r = new JsonObject();
        r.addProperty("bytes", Files.size(p));
        r.addProperty("sha256", sha256(p));
        files.put(rel, r);
    }

    static String sha256(Path p) throws IOException {
        MessageDigest sha = sha();
        byte[] buf = new byte[1 << 20];
        try (InputStream in = Files.newInputStream(p)) {
            int n;
            while ((n = in.read(buf)) > 0) sha.update(buf, 0, n);
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    private static MessageDigest sha() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) return;
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) {
                try {
                    Files.delete(q);
                } catch (DirectoryNotEmptyException ignored) {
                    // raced; the outer call fails loudly if it matters
                }
            }
        }
    }
}
