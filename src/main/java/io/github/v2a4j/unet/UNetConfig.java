package io.github.v2a4j.unet;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The K4 UNet's effective configuration. The K4 subclass forwards only the keys below to diffusers'
 * UNet2DConditionModel, so every other key of unet/config.json (use_linear_projection, upcast_attention, ...) is
 * ignored and takes the diffusers 0.31 default; defaults here are the K4 subclass signature's.
 *
 * <p>{@code attention_head_dim} is used by diffusers as the NUMBER of heads (num_attention_heads is None), per down
 * block; up blocks take the reversed list, the mid block the last entry.
 *
 * <p>The K4 processors hard-code their input widths ({@code video_k/video_v} 4096 → C, {@code text_projection}
 * 4096 → 768); tiny golden bundles use other widths, given by the keys {@code video_embed_dim} and
 * {@code text_embed_dim} (absent in a real config → 4096). The text projection's output width is the
 * cross-attention width. Golden bundles put these widths under {@code "v2a4j"} in the config
 * ({@code video_embed_dim}, {@code text_embed_dim}, {@code text_projection_out}); top-level keys of the same names
 * are accepted too.
 */
public record UNetConfig(int inChannels, int outChannels, boolean centerInputSample, boolean flipSinToCos,
                         int freqShift, String[] downBlockTypes, String[] upBlockTypes, int[] blockOutChannels,
                         int layersPerBlock, int downsamplePadding, double midBlockScaleFactor, String actFn,
                         int normNumGroups, double normEps, int crossAttentionDim, int[] attentionHeads,
                         int videoEmbedDim, int textEmbedDim) {

    /** The real K4 V2A UNet (riffusion / SD-1.5 shape, 768-wide cross-attention, 8 heads). */
    public static UNetConfig k4() {
        return new UNetConfig(4, 4, false, true, 0,
                new String[]{"CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"},
                new String[]{"UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"},
                new int[]{320, 640, 1280, 1280}, 2, 1, 1.0, "silu", 32, 1e-5, 768, new int[]{8, 8, 8, 8},
                4096, 4096);
    }

    public static UNetConfig read(Path file) {
        try {
            return fromJson(JsonParser.parseString(Files.readString(file)).getAsJsonObject());
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("cannot read UNet config " + file + ": " + e.getMessage(), e);
        }
    }

    public static UNetConfig fromJson(JsonObject o) {
        String[] down = strings(o, "down_block_types", new String[]{"CrossAttnDownBlock2D", "CrossAttnDownBlock2D",
                "CrossAttnDownBlock2D", "DownBlock2D"});
        String[] up = strings(o, "up_block_types", new String[]{"UpBlock2D", "CrossAttnUpBlock2D",
                "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"});
        int[] out = ints(o, "block_out_channels", new int[]{320, 640, 1280, 1280});
        int[] heads = perBlock(o, "attention_head_dim", 8, down.length);
        JsonElement cad = o.get("cross_attention_dim");
        if (cad != null && cad.isJsonArray()) {
            throw new IllegalArgumentException("per-block cross_attention_dim is not supported");
        }
        if (o.has("layers_per_block") && o.get("layers_per_block").isJsonArray()) {
            throw new IllegalArgumentException("per-block layers_per_block is not supported");
        }
        JsonObject k4 = o.has("v2a4j") && o.get("v2a4j").isJsonObject() ? o.getAsJsonObject("v2a4j") : o;
        int cross = intOr(o, "cross_attention_dim", 1280);
        int textOut = intOr(k4, "text_projection_out", cross);
        if (textOut != cross) {
            throw new IllegalArgumentException("text_projection_out " + textOut + " must equal cross_attention_dim "
                    + cross + " (the projected text feeds attn2.to_k/to_v)");
        }
        UNetConfig c = new UNetConfig(
                intOr(o, "in_channels", 4), intOr(o, "out_channels", 4),
                boolOr(o, "center_input_sample", false), boolOr(o, "flip_sin_to_cos", true),
                intOr(o, "freq_shift", 0), down, up, out, intOr(o, "layers_per_block", 2),
                intOr(o, "downsample_padding", 1), doubleOr(o, "mid_block_scale_factor", 1.0),
                stringOr(o, "act_fn", "silu"), intOr(o, "norm_num_groups", 32), doubleOr(o, "norm_eps", 1e-5),
                cross, heads, intOr(k4, "video_embed_dim", 4096), intOr(k4, "text_embed_dim", 4096));
        c.check();
        return c;
    }

    /** Rejects configurations this port does not implement, naming the key. */
    public void check() {
        if (downBlockTypes.length != blockOutChannels.length || upBlockTypes.length != blockOutChannels.length) {
            throw new IllegalArgumentException("down_block_types, up_block_types and block_out_channels differ in length");
        }
        for (String t : downBlockTypes) {
            if (!t.equals("CrossAttnDownBlock2D") && !t.equals("DownBlock2D")) {
                throw new IllegalArgumentException("down block type " + t + " is not supported");
            }
        }
        for (String t : upBlockTypes) {
            if (!t.equals("CrossAttnUpBlock2D") && !t.equals("UpBlock2D")) {
                throw new IllegalArgumentException("up block type " + t + " is not supported");
            }
        }
        if (!actFn.equals("silu")) throw new IllegalArgumentException("act_fn " + actFn + " is not supported");
        if (downsamplePadding != 1) {
            throw new IllegalArgumentException("downsample_padding " + downsamplePadding + " is not supported");
        }
    }

    /** Heads of the transformers of up block i (diffusers reverses the per-down-block list). */
    int upHeads(int i) {
        return attentionHeads[attentionHeads.length - 1 - i];
    }

    int midHeads() {
        return attentionHeads[attentionHeads.length - 1];
    }

    /** Width of the timestep embedding: 4 × the first block's channels. */
    int timeEmbedDim() {
        return blockOutChannels[0] * 4;
    }

    private static int[] perBlock(JsonObject o, String k, int d, int n) {
        JsonElement e = o.get(k);
        int[] r = new int[n];
        if (e == null || e.isJsonNull()) {
            Arrays.fill(r, d);
        } else if (e.isJsonArray()) {
            r = ints(o, k, null);
            if (r.length != n) throw new IllegalArgumentException(k + " has " + r.length + " entries, expected " + n);
        } else {
            Arrays.fill(r, e.getAsInt());
        }
        return r;
    }

    private static String[] strings(JsonObject o, String k, String[] d) {
        JsonElement e = o.get(k);
        if (e == null || e.isJsonNull()) return d;
        JsonArray a = e.getAsJsonArray();
        String[] r = new String[a.size()];
        for (int i = 0; i < r.length; i++) r[i] = a.get(i).getAsString();
        return r;
    }

    private static int[] ints(JsonObject o, String k, int[] d) {
        JsonElement e = o.get(k);
        if (e == null || e.isJsonNull()) return d;
        JsonArray a = e.getAsJsonArray();
        int[] r = new int[a.size()];
        for (int i = 0; i < r.length; i++) r[i] = a.get(i).getAsInt();
        return r;
    }

    private static int intOr(JsonObject o, String k, int d) {
        JsonElement e = o.get(k);
        return e == null || e.isJsonNull() ? d : e.getAsInt();
    }

    private static double doubleOr(JsonObject o, String k, double d) {
        JsonElement e = o.get(k);
        return e == null || e.isJsonNull() ? d : e.getAsDouble();
    }

    private static boolean boolOr(JsonObject o, String k, boolean d) {
        JsonElement e = o.get(k);
        return e == null || e.isJsonNull() ? d : e.getAsBoolean();
    }

    private static String stringOr(JsonObject o, String k, String d) {
        JsonElement e = o.get(k);
        return e == null || e.isJsonNull() ? d : e.getAsString();
    }
}
