package io.github.v2a4j.vae;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The decoder-relevant part of a diffusers {@code AutoencoderKL} {@code vae/config.json} (SD-1.x: latent 4,
 * block_out_channels (128, 256, 512, 512), layers_per_block 2, 32 groups, scaling_factor 0.18215). Defaults are
 * diffusers' {@code AutoencoderKL.__init__} defaults for keys a config leaves out.
 *
 * @param upBlockTypes   one per block; only {@code UpDecoderBlock2D} exists in SD-1.x VAEs
 * @param shiftFactor    null for SD-1.x; K4 decodes {@code latents / scaling_factor} and never applies a shift
 */
public record VaeConfig(int latentChannels, int outChannels, int[] blockOutChannels, int layersPerBlock,
                        int normNumGroups, double scalingFactor, Double shiftFactor, List<String> upBlockTypes,
                        String actFn, boolean midBlockAddAttention, boolean usePostQuantConv) {

    public VaeConfig {
        if (blockOutChannels.length == 0) throw new IllegalArgumentException("VAE config: empty block_out_channels");
        if (upBlockTypes.size() != blockOutChannels.length) {
            throw new IllegalArgumentException("VAE config: " + upBlockTypes.size() + " up_block_types for "
                    + blockOutChannels.length + " block_out_channels");
        }
        for (String t : upBlockTypes) {
            if (!t.equals("UpDecoderBlock2D")) {
                throw new IllegalArgumentException("VAE config: unsupported up block type " + t + " (only UpDecoderBlock2D)");
            }
        }
        if (!actFn.equals("silu")) throw new IllegalArgumentException("VAE config: unsupported act_fn " + actFn);
        for (int c : blockOutChannels) {
            if (c % normNumGroups != 0) {
                throw new IllegalArgumentException("VAE config: " + c + " channels not divisible by " + normNumGroups + " groups");
            }
        }
    }

    /** The SD-1.x VAE (riffusion / K4 v2a). */
    public static VaeConfig sd1() {
        return new VaeConfig(4, 3, new int[] {128, 256, 512, 512}, 2, 32, 0.18215, null,
                List.of("UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D"),
                "silu", true, true);
    }

    public static VaeConfig read(Path configJson) {
        try {
            return parse(Files.readString(configJson));
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read VAE config " + configJson + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("bad VAE config " + configJson + ": " + e.getMessage(), e);
        }
    }

    public static VaeConfig parse(String json) {
        JsonObject o = JsonParser.parseString(json).getAsJsonObject();
        JsonArray blocks = o.getAsJsonArray("block_out_channels");
        if (blocks == null) throw new IllegalArgumentException("missing block_out_channels");
        int[] channels = new int[blocks.size()];
        for (int i = 0; i < channels.length; i++) channels[i] = blocks.get(i).getAsInt();
        List<String> upTypes = new ArrayList<>();
        JsonArray ups = o.getAsJsonArray("up_block_types");
        if (ups == null) throw new IllegalArgumentException("missing up_block_types");
        for (JsonElement e : ups) upTypes.add(e.getAsString());
        return new VaeConfig(
                intOr(o, "latent_channels", 4),
                intOr(o, "out_channels", 3),
                channels,
                intOr(o, "layers_per_block", 1),
                intOr(o, "norm_num_groups", 32),
                has(o, "scaling_factor") ? o.get("scaling_factor").getAsDouble() : 0.18215,
                has(o, "shift_factor") ? o.get("shift_factor").getAsDouble() : null,
                upTypes,
                has(o, "act_fn") ? o.get("act_fn").getAsString() : "silu",
                !has(o, "mid_block_add_attention") || o.get("mid_block_add_attention").getAsBoolean(),
                !has(o, "use_post_quant_conv") || o.get("use_post_quant_conv").getAsBoolean());
    }

    /** Spatial upsampling factor of the decoder: {@code 2^(blocks−1)} (8 for SD-1.x). */
    public int scaleFactor() {
        return 1 << (blockOutChannels.length - 1);
    }

    private static boolean has(JsonObject o, String key) {
        return o.has(key) && !o.get(key).isJsonNull();
    }

    private static int intOr(JsonObject o, String key, int dflt) {
        return has(o, key) ? o.get(key).getAsInt() : dflt;
    }
}
