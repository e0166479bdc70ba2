package io.github.v2a4j.faults;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Seeded damage to a copy of a model folder: every malformed safetensors shape (truncation, lying header length,
 * broken JSON, wrong dtypes, shapes and offsets, missing and extra tensors), non-finite and overflowing values,
 * flipped data bytes, missing, broken and absurd configs, and files that cannot be read (a folder, a dangling link or
 * a named pipe where a file belongs, an empty file). Case {@code i} of a seed always does the same thing.
 */
public final class ModelCorruptions {

    static final String[] KINDS = {"truncate", "header-length", "header-json", "dtype", "shape", "offsets",
        "non-finite", "overflow", "missing-file", "bad-config", "unreadable", "remove-tensor", "extra-tensor",
        "flip-data", "empty-file", "tokenizer"};

    static final String[] WEIGHTS = {"cogvlm/model.safetensors", "unet/model.safetensors",
        "vae/model.safetensors"};

    private final long seed;

    public ModelCorruptions(long seed) {
        this.seed = seed;
    }

    /** Damages the model folder {@code model} (a fresh copy) as case {@code i}; returns what was done. */
    public String apply(int i, Path model) throws Exception {
        Random r = new Random(seed * 7_368_787L + i);
        String kind = KINDS[i % KINDS.length];
        Path w = model.resolve(WEIGHTS[r.nextInt(WEIGHTS.length)]);
        String rel = model.relativize(w).toString();
        String[] names = Corrupt.tensors(w);
        String tensor = names[r.nextInt(names.length)];
        switch (kind) {
            case "truncate" -> {
                long size = Files.size(w);
                long at = r.nextInt(4) == 0 ? r.nextInt(64) : (long) (r.nextDouble() * size);
                try (RandomAccessFile f = new RandomAccessFile(w.toFile(), "rw")) {
                    f.setLength(at);
                }
                return kind + ": " + rel + " cut at byte " + at + " of " + size;
            }
            case "header-length" -> {
                long[] values = {0, 1, 7, Files.size(w), Files.size(w) + 1, Long.MAX_VALUE, -1, 100_000_001};
                long v = values[r.nextInt(values.length)];
                try (RandomAccessFile f = new RandomAccessFile(w.toFile(), "rw")) {
                    f.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array());
                }
                return kind + ": " + rel + " header length " + v;
            }
            case "header-json" -> {
                long n = headerLength(w);
                int flips = 1 + r.nextInt(3);
                try (RandomAccessFile f = new RandomAccessFile(w.toFile(), "rw")) {
                    for (int k = 0; k < flips; k++) {
                        long at = 8 + (long) (r.nextDouble() * n);
                        f.seek(at);
                        int old = f.read();
                        f.seek(at);
                        f.write(old ^ (1 + r.nextInt(255)));
                    }
                }
                return kind + ": " + rel + " " + flips + " header bytes flipped";
            }
            case "dtype" -> {
                String[] dtypes = {"I32", "U8", "I64", "F16", "BF16", "F64", "BOOL", "X9", "f32", ""};
                String d = dtypes[r.nextInt(dtypes.length)];
                Corrupt.retype(w, tensor, d);
                return kind + ": " + rel + " '" + tensor + "' declared " + d;
            }
            case "shape" -> {
                JsonArray shape = Corrupt.header(w).getAsJsonObject(tensor).getAsJsonArray("shape");
                JsonArray s = new JsonArray();
                switch (r.nextInt(4)) {
                    case 0 -> { // same elements, another layout: only the model's expected shape tells
                        long n = 1;
                        for (var e : shape) n *= e.getAsLong();
                        s.add(n);
                    }
                    case 1 -> {
                        for (var e : shape) s.add(e.getAsLong() + 1);
                    }
                    case 2 -> {
                        s.add(Long.MAX_VALUE);
                        s.add(4);
                    }
                    default -> {
                        for (var e : shape) s.add(e);
                        s.add(1);
                    }
                }
                Corrupt.editHeader(w, h -> h.getAsJsonObject(tensor).add("shape", s));
                return kind + ": " + rel + " '" + tensor + "' shape " + shape + " -> " + s;
            }
            case "offsets" -> {
                JsonArray o = Corrupt.header(w).getAsJsonObject(tensor).getAsJsonArray("data_offsets");
                long b = o.get(0).getAsLong();
                long e = o.get(1).getAsLong();
                long[][] choices = {{e, b}, {b + 4, e + 4}, {b, e + (1L << 40)}, {0, e - b}, {b - Math.min(b, 4), e - 4}};
                long[] c = choices[r.nextInt(choices.length)];
                JsonArray n = new JsonArray();
                n.add(c[0]);
                n.add(c[1]);
                Corrupt.editHeader(w, h -> h.getAsJsonObject(tensor).add("data_offsets", n));
                return kind + ": " + rel + " '" + tensor + "' offsets " + o + " -> " + n;
            }
            case "non-finite" -> {
                String t = floatTensor(w, r);
                float[] values = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY};
                float v = values[r.nextInt(values.length)];
                long n = Corrupt.span(w, t)[1] / 4;
                long at = (long) (r.nextDouble() * n);
                Corrupt.setFloat(w, t, at, v);
                return kind + ": " + rel + " '" + t + "'[" + at + "] = " + v;
            }
            case "overflow" -> {
                String t = floatTensor(w, r);
                float[] values = {3e38f, -3e38f, 1e30f, 1e20f};
                float v = values[r.nextInt(values.length)];
                Corrupt.fillFloat(w, t, v);
                return kind + ": " + rel + " '" + t + "' filled with " + v;
            }
            case "missing-file" -> {
                String[] files = {"cogvlm/config.json", "unet/config.json", "vae/config.json",
                    "scheduler/scheduler_config.json", "cogvlm/tokenizer.json", rel};
                String f = files[r.nextInt(files.length)];
                Files.delete(model.resolve(f));
                return kind + ": " + f + " deleted";
            }
            case "bad-config" -> {
                return badConfig(model, r);
            }
            case "unreadable" -> {
                String[] files = {rel, "unet/config.json", "cogvlm/tokenizer.json", "scheduler/scheduler_config.json"};
                Path f = model.resolve(files[r.nextInt(files.length)]);
                Files.delete(f);
                switch (r.nextInt(3)) {
                    case 0 -> Files.createDirectory(f);
                    case 1 -> Files.createSymbolicLink(f, model.resolve("nowhere/gone"));
                    default -> {
                        Process p = new ProcessBuilder("mkfifo", f.toString()).start();
                        if (p.waitFor() != 0) throw new IOException("mkfifo failed");
                    }
                }
                String what = Files.isDirectory(f) ? "a folder" : Files.isSymbolicLink(f) ? "a dangling link"
                        : "a named pipe";
                return kind + ": " + model.relativize(f) + " is " + what;
            }
            case "remove-tensor" -> {
                Corrupt.editHeader(w, h -> h.remove(tensor));
                return kind + ": " + rel + " '" + tensor + "' removed from the header";
            }
            case "extra-tensor" -> {
                long end = dataLength(w);
                Corrupt.editHeader(w, h -> {
                    JsonObject e = new JsonObject();
                    e.addProperty("dtype", "F32");
                    JsonArray shape = new JsonArray();
                    shape.add(0);
                    e.add("shape", shape);
                    JsonArray off = new JsonArray();
                    off.add(end);
                    off.add(end);
                    e.add("data_offsets", off);
                    h.add("extra.layer.weight", e);
                });
                return kind + ": " + rel + " gained 'extra.layer.weight'";
            }
            case "flip-data" -> {
                long start = 8 + headerLength(w);
                long size = Files.size(w);
                int flips = 1 + r.nextInt(50);
                try (RandomAccessFile f = new RandomAccessFile(w.toFile(), "rw")) {
                    for (int k = 0; k < flips; k++) {
                        long at = start + (long) (r.nextDouble() * (size - start));
                        f.seek(at);
                        int old = f.read();
                        f.seek(at);
                        f.write(old ^ (1 << r.nextInt(8)));
                    }
                }
                return kind + ": " + rel + " " + flips + " data bits flipped";
            }
            case "empty-file" -> {
                String[] files = {rel, "unet/config.json", "cogvlm/tokenizer.json", "vae/config.json"};
                String f = files[r.nextInt(files.length)];
                Files.write(model.resolve(f), new byte[0]);
                return kind + ": " + f + " emptied";
            }
            default -> {
                Path t = model.resolve("cogvlm/tokenizer.json");
                String text = Files.readString(t, StandardCharsets.UTF_8);
                String broken = r.nextBoolean() ? text.substring(0, r.nextInt(text.length()))
                        : text.replace("\"vocab\"", "\"vocabulary\"");
                Files.writeString(t, broken, StandardCharsets.UTF_8);
                return "tokenizer: cogvlm/tokenizer.json damaged";
            }
        }
    }

    private static String badConfig(Path model, Random r) throws IOException {
        List<Object[]> edits = new ArrayList<>(List.of(
                new Object[] {"cogvlm/config.json", "hidden_size", 0},
                new Object[] {"cogvlm/config.json", "hidden_size", -64},
                new Object[] {"cogvlm/config.json", "num_hidden_layers", 100000},
                new Object[] {"cogvlm/config.json", "num_attention_heads", 3},
                new Object[] {"cogvlm/config.json", "vocab_size", "many"},
                new Object[] {"unet/config.json", "in_channels", 3},
                new Object[] {"unet/config.json", "norm_num_groups", 3},
                new Object[] {"unet/config.json", "block_out_channels", new JsonArray()},
                new Object[] {"unet/config.json", "attention_head_dim", 0},
                new Object[] {"vae/config.json", "latent_channels", 1 << 30},
                new Object[] {"vae/config.json", "block_out_channels", null},
                new Object[] {"scheduler/scheduler_config.json", "num_train_timesteps", 0},
                new Object[] {"scheduler/scheduler_config.json", "beta_schedule", "cubic"},
                new Object[] {"scheduler/scheduler_config.json", "timestep_spacing", "sideways"},
                new Object[] {"scheduler/scheduler_config.json", "beta_end", -1},
                new Object[] {"unet/config.json", null, null}));
        Object[] e = edits.get(r.nextInt(edits.size()));
        Path f = model.resolve((String) e[0]);
        String text = Files.readString(f, StandardCharsets.UTF_8);
        if (e[1] == null) {
            Files.writeString(f, text.substring(0, text.length() / 2), StandardCharsets.UTF_8);
            return "bad-config: " + e[0] + " cut in half";
        }
        JsonObject o = JsonParser.parseString(text).getAsJsonObject();
        String key = (String) e[1];
        if (e[2] == null) o.remove(key);
        else if (e[2] instanceof Number n) o.addProperty(key, n);
        else if (e[2] instanceof String s) o.addProperty(key, s);
        else o.add(key, (JsonArray) e[2]);
        Files.writeString(f, o.toString(), StandardCharsets.UTF_8);
        return "bad-config: " + e[0] + " " + key + " = " + e[2];
    }

    private static String floatTensor(Path w, Random r) throws IOException {
        JsonObject h = Corrupt.header(w);
        List<String> f32 = new ArrayList<>();
        for (Map.Entry<String, com.google.gson.JsonElement> e : h.entrySet()) {
            if (!e.getKey().equals("__metadata__") && "F32".equals(e.getValue().getAsJsonObject().get("dtype").getAsString())
                    && Corrupt.span(w, e.getKey())[1] > 0) {
                f32.add(e.getKey());
            }
        }
        f32.sort(null);
        return f32.get(r.nextInt(f32.size()));
    }

    private static long headerLength(Path w) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(w.toFile(), "r")) {
            byte[] b = new byte[8];
            f.readFully(b);
            return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong();
        }
    }

    private static long dataLength(Path w) throws IOException {
        return Files.size(w) - 8 - headerLength(w);
    }
}
