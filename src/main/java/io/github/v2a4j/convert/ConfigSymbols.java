package io.github.v2a4j.convert;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * The values of the manifests' shape symbols, read from each component's config.json (the symbols' meaning is
 * written in each manifest's {@code #symbol} lines). The manifests list the published architecture at any width: a
 * config whose layer counts or channel pattern differ (and whose model would hold other tensors) is refused here,
 * naming the key.
 */
public final class ConfigSymbols {

    private ConfigSymbols() {}

    public static JsonObject readJson(Path file) {
        try (Reader r = Files.newBufferedReader(file)) {
            JsonElement e = JsonParser.parseReader(r);
            if (!e.isJsonObject()) throw new ConvertException(file + ": not a JSON object");
            return e.getAsJsonObject();
        } catch (IOException | RuntimeException e) {
            if (e instanceof ConvertException ce) throw ce;
            throw new ConvertException(file + ": cannot read JSON (" + e.getMessage() + ")", e);
        }
    }

    public static Map<String, Long> cogvlm(JsonObject c, Path file) {
        Map<String, Long> s = new HashMap<>();
        long hidden = num(c, "hidden_size", file);
        long heads = num(c, "num_attention_heads", file);
        long kv = num(c, "num_multi_query_heads", file);
        long head = hidden / heads;
        s.put("vocab", num(c, "vocab_size", file));
        s.put("hidden", hidden);
        s.put("inter", num(c, "intermediate_size", file));
        s.put("qkv", hidden + 2 * kv * head);
        s.put("rope", head / 2);
        JsonObject v = c.has("vision_config") ? c.getAsJsonObject("vision_config") : null;
        if (v == null) throw new ConvertException(file + ": no vision_config");
        long vh = num(v, "hidden_size", file);
        s.put("vhidden", vh);
        s.put("vqkv", 3 * vh);
        s.put("vinter", num(v, "intermediate_size", file));
        s.put("chan", num(v, "in_channels", file));
        s.put("patch", num(v, "patch_size", file));
        s.put("vpos", num(v, "num_positions", file));
        s.put(DECODER_LAYERS, layers(c, "num_hidden_layers", 2, 32, file));
        s.put(VISION_LAYERS, layers(v, "num_hidden_layers", 1, 63, file));
        return s;
    }

    /** The CogVLM2 symbol of the decoder layer count ({@code num_hidden_layers}, the last one unused by K4). */
    public static final String DECODER_LAYERS = "layers";
    /** The CogVLM2 symbol of the vision layer count ({@code vision_config.num_hidden_layers}). */
    public static final String VISION_LAYERS = "vlayers";

    /**
     * A layer count: the published one, or fewer (a checkpoint truncated to its first layers, as {@code v2a rehearse}
     * writes for a quick run); more would hold tensors no manifest lists.
     */
    private static long layers(JsonObject c, String key, long min, long published, Path file) {
        long n = opt(c, key, published);
        if (n < min || n > published) {
            throw new ConvertException(file + ": " + key + " is " + n + ", the published model has " + published
                    + " (fewer, down to " + min + ", convert as a truncated model)");
        }
        return n;
    }

    /** UNet symbols; absent keys take the SD-1.5 values (K4's unet config is not public). */
    public static Map<String, Long> unet(JsonObject c, long cogvlmHidden, Path file) {
        Map<String, Long> s = new HashMap<>();
        long[] b = channels(c, new long[] {320, 640, 1280, 1280}, file);
        requireIfPresent(c, "layers_per_block", 2, file);
        for (int i = 0; i < 4; i++) s.put("b" + i, b[i]);
        s.put("in", opt(c, "in_channels", 4));
        s.put("out", opt(c, "out_channels", 4));
        s.put("cross", opt(c, "cross_attention_dim", 768));
        s.put("embed", cogvlmHidden);
        return s;
    }

    /** VAE symbols; absent keys take the SD-1.x values, except layers_per_block (diffusers' default is 1, SD's 2). */
    public static Map<String, Long> vae(JsonObject c, Path file) {
        Map<String, Long> s = new HashMap<>();
        long[] b = channels(c, new long[] {128, 256, 512, 512}, file);
        if (opt(c, "layers_per_block", 1) != 2) {
            throw new ConvertException(file + ": layers_per_block is " + opt(c, "layers_per_block", 1)
                    + " (absent means diffusers' 1), the published VAE has 2");
        }
        for (int i = 0; i < 4; i++) s.put("c" + i, b[i]);
        s.put("latent", opt(c, "latent_channels", 4));
        s.put("out", opt(c, "out_channels", 3));
        return s;
    }

    /** Four widths in the published pattern b0 ≠ b1 ≠ b2 = b3, which decides where 1×1 shortcuts exist. */
    private static long[] channels(JsonObject c, long[] dflt, Path file) {
        if (!c.has("block_out_channels")) return dflt;
        JsonArray a = c.getAsJsonArray("block_out_channels");
        if (a.size() != 4) throw new ConvertException(file + ": block_out_channels has " + a.size() + " entries, expected 4");
        long[] b = new long[4];
        for (int i = 0; i < 4; i++) b[i] = a.get(i).getAsLong();
        if (b[0] == b[1] || b[1] == b[2] || b[2] != b[3]) {
            throw new ConvertException(file + ": block_out_channels " + Arrays.toString(b)
                    + " do not follow the published pattern (first three different, last two equal), "
                    + "so the model would hold other shortcut convolutions");
        }
        return b;
    }

    private static void requireIfPresent(JsonObject c, String key, long published, Path file) {
        if (c.has(key) && c.get(key).getAsLong() != published) {
            throw new ConvertException(file + ": " + key + " is " + c.get(key).getAsLong() + ", the published model has "
                    + published);
        }
    }

    private static long num(JsonObject c, String key, Path file) {
        if (!c.has(key) || !c.get(key).isJsonPrimitive()) throw new ConvertException(file + ": no number '" + key + "'");
        return c.get(key).getAsLong();
    }

    private static long opt(JsonObject c, String key, long dflt) {
        return c.has(key) && c.get(key).isJsonPrimitive() ? c.get(key).getAsLong() : dflt;
    }
}
