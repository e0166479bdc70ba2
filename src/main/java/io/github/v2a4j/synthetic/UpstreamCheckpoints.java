package io.github.v2a4j.synthetic;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.github.v2a4j.convert.ConfigSymbols;
import io.github.v2a4j.convert.ExpectedTensors;
import io.github.v2a4j.io.Dtype;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Synthetic Hugging Face folders laid out as the published checkpoints are, for {@code v2a convert} without a
 * download: {@code ai-forever/kandinsky-4-v2a} ({@code unet/}, {@code vae/}, {@code scheduler/}, diffusers config
 * and file names) and {@code THUDM/cogvlm2-video-llama3-chat} (six bf16 shards split as the published index splits
 * its 1029 tensors, {@code model.safetensors.index.json}, {@code config.json}, the tokenizer files). Every tensor the
 * published files hold is written, the ones {@code convert} drops included: names and shapes come from the
 * converter's manifests evaluated at each config, and the VAE encoder's from diffusers' {@code Encoder}.
 * Values are {@link SyntheticWeights}; any config size works, the real ones included (tens of GB on disk).
 */
public final class UpstreamCheckpoints {
    private UpstreamCheckpoints() {}

    /** Tensors per shard in the published CogVLM2 index; the last shard holds lm_head alone. */
    static final int[] COGVLM_SHARDS = {74, 91, 89, 438, 336, 1};

    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create();

    /** Writes {@code tiny/kandinsky-4-v2a} and {@code tiny/cogvlm2-video-llama3-chat} at the tiny sizes of {@link #main}. */
    public static void main(String[] args) {
        if (args.length != 1) {
            System.err.println("usage: UpstreamCheckpoints OUT_DIR   (writes tiny synthetic upstream folders)");
            System.exit(2);
        }
        Path out = Path.of(args[0]);
        writeTiny(out.resolve("kandinsky-4-v2a"), out.resolve("cogvlm2-video-llama3-chat"), 1);
    }

    /**
     * Both folders at tiny widths with every layer of the published architecture (32 decoder and 63 vision layers,
     * SD-1.5's block structure): what the converter and the pipeline need to run end to end in seconds.
     */
    public static void writeTiny(Path kandinsky, Path cogvlm, long seed) {
        SyntheticWeights weights = new SyntheticWeights(seed);
        JsonObject cog = DemoModel.cogvlmConfig();
        cog.addProperty("num_hidden_layers", 32);
        JsonObject vision = cog.getAsJsonObject("vision_config");
        vision.addProperty("num_hidden_layers", 63);
        vision.addProperty("image_size", 28); // a 2×2 patch grid: one token per frame after the 2×2 conv
        vision.addProperty("num_positions", 5);
        writeCogvlm(cogvlm, cog, DemoModel.tokenizerJson(), tokenizerConfigJson(), Dtype.BF16, weights);
        // the published channel pattern (b0 ≠ b1 ≠ b2 = b3) and layers per block, at tiny widths
        JsonObject unet = DemoModel.unetConfig();
        unet.add("block_out_channels", ints(8, 16, 32, 32));
        JsonObject vae = DemoModel.vaeConfig();
        vae.add("block_out_channels", ints(8, 16, 32, 32));
        vae.addProperty("layers_per_block", 2);
        vae.add("down_block_types", strings("DownEncoderBlock2D", 4));
        writeKandinsky(kandinsky, unet, vae, DemoModel.schedulerConfig(),
                cog.get("hidden_size").getAsLong(), Dtype.F32, weights);
    }

    /**
     * {@code unet/config.json}, {@code unet/diffusion_pytorch_model.safetensors}, the same two in {@code vae/}
     * (encoder, {@code quant_conv}, decoder, {@code post_quant_conv}) and {@code scheduler/scheduler_config.json}.
     *
     * @param cogvlmHidden the width of the CogVLM2 embeddings the UNet's video and text projections take
     */
    public static void writeKandinsky(Path dir, JsonObject unetConfig, JsonObject vaeConfig, JsonObject schedulerConfig,
                                      long cogvlmHidden, Dtype dtype, SyntheticWeights weights) {
        Map<String, long[]> unet = ExpectedTensors.load(ExpectedTensors.UNET)
                .shapes(ConfigSymbols.unet(unetConfig, cogvlmHidden, dir.resolve("unet/config.json")));
        writeText(dir.resolve("unet/config.json"), GSON.toJson(unetConfig) + "\n");
        SyntheticCheckpoint.write(dir.resolve("unet/diffusion_pytorch_model.safetensors"), unet, dtype, weights);

        Map<String, long[]> vae = new LinkedHashMap<>(vaeEncoderShapes(vaeConfig));
        vae.putAll(ExpectedTensors.load(ExpectedTensors.VAE).shapes(ConfigSymbols.vae(vaeConfig, dir.resolve("vae/config.json"))));
        writeText(dir.resolve("vae/config.json"), GSON.toJson(vaeConfig) + "\n");
        SyntheticCheckpoint.write(dir.resolve("vae/diffusion_pytorch_model.safetensors"), vae, dtype, weights);

        writeText(dir.resolve("scheduler/scheduler_config.json"), GSON.toJson(schedulerConfig) + "\n");
    }

    /** {@code model-0000i-of-00006.safetensors}, {@code model.safetensors.index.json} and the config files. */
    public static void writeCogvlm(Path dir, JsonObject config, String tokenizerJson, String tokenizerConfigJson,
                                   Dtype dtype, SyntheticWeights weights) {
        writeText(dir.resolve("config.json"), GSON.toJson(config) + "\n");
        writeText(dir.resolve("tokenizer.json"), tokenizerJson);
        writeText(dir.resolve("tokenizer_config.json"), tokenizerConfigJson);
        Map<String, long[]> all = ExpectedTensors.load(ExpectedTensors.COGVLM)
                .shapes(ConfigSymbols.cogvlm(config, dir.resolve("config.json")));
        List<Map<String, long[]>> shards = new ArrayList<>();
        List<Map.Entry<String, long[]>> entries = new ArrayList<>(all.entrySet());
        entries.sort(Comparator.comparing(e -> e.getKey().equals("lm_head.weight")));
        int at = 0;
        for (int count : COGVLM_SHARDS) {
            Map<String, long[]> shard = new LinkedHashMap<>();
            for (Map.Entry<String, long[]> e : entries.subList(at, at + count)) shard.put(e.getKey(), e.getValue());
            shards.add(shard);
            at += count;
        }
        SyntheticCheckpoint.writeSharded(dir, "model", shards, dtype, weights);
    }

    /**
     * The tensors of diffusers' {@code AutoencoderKL} encoder and {@code quant_conv} for a VAE config: conv_in, per
     * down block its resnets (a 1×1 shortcut where the width changes) and a stride-2 downsampler (all but the
     * last), the mid block (resnet, attention, resnet), conv_norm_out, conv_out to twice the latent channels.
     */
    static Map<String, long[]> vaeEncoderShapes(JsonObject c) {
        JsonArray blocks = c.getAsJsonArray("block_out_channels");
        long[] ch = new long[blocks.size()];
        for (int i = 0; i < ch.length; i++) ch[i] = blocks.get(i).getAsLong();
        int layers = c.has("layers_per_block") ? c.get("layers_per_block").getAsInt() : 1;
        long in = c.has("in_channels") ? c.get("in_channels").getAsLong() : 3;
        long latent = c.has("latent_channels") ? c.get("latent_channels").getAsLong() : 4;
        boolean attention = !c.has("mid_block_add_attention") || c.get("mid_block_add_attention").getAsBoolean();
        Map<String, long[]> p = new LinkedHashMap<>();
        conv(p, "encoder.conv_in", ch[0], in, 3);
        long prev = ch[0];
        for (int i = 0; i < ch.length; i++) {
            String b = "encoder.down_blocks." + i;
            for (int j = 0; j < layers; j++) resnet(p, b + ".resnets." + j, j == 0 ? prev : ch[i], ch[i]);
            if (i < ch.length - 1) conv(p, b + ".downsamplers.0.conv", ch[i], ch[i], 3);
            prev = ch[i];
        }
        long top = ch[ch.length - 1];
        resnet(p, "encoder.mid_block.resnets.0", top, top);
        if (attention) {
            String a = "encoder.mid_block.attentions.0";
            norm(p, a + ".group_norm", top);
            for (String proj : new String[] {"to_q", "to_k", "to_v", "to_out.0"}) {
                p.put(a + "." + proj + ".weight", new long[] {top, top});
                p.put(a + "." + proj + ".bias", new long[] {top});
            }
        }
        resnet(p, "encoder.mid_block.resnets.1", top, top);
        norm(p, "encoder.conv_norm_out", top);
        conv(p, "encoder.conv_out", 2 * latent, top, 3);
        conv(p, "quant_conv", 2 * latent, 2 * latent, 1);
        return p;
    }

    private static void resnet(Map<String, long[]> p, String path, long cin, long cout) {
        norm(p, path + ".norm1", cin);
        conv(p, path + ".conv1", cout, cin, 3);
        norm(p, path + ".norm2", cout);
        conv(p, path + ".conv2", cout, cout, 3);
        if (cin != cout) conv(p, path + ".conv_shortcut", cout, cin, 1);
    }

    private static void conv(Map<String, long[]> p, String path, long cout, long cin, int k) {
        p.put(path + ".weight", new long[] {cout, cin, k, k});
        p.put(path + ".bias", new long[] {cout});
    }

    private static void norm(Map<String, long[]> p, String path, long c) {
        p.put(path + ".weight", new long[] {c});
        p.put(path + ".bias", new long[] {c});
    }

    /** The fields of Llama-3's tokenizer_config.json that name its special tokens. */
    static String tokenizerConfigJson() {
        JsonObject t = new JsonObject();
        t.addProperty("bos_token", "<|begin_of_text|>");
        t.addProperty("eos_token", "<|end_of_text|>");
        t.addProperty("tokenizer_class", "PreTrainedTokenizerFast");
        return GSON.toJson(t) + "\n";
    }

    private static JsonArray ints(int... v) {
        JsonArray a = new JsonArray();
        for (int x : v) a.add(x);
        return a;
    }

    private static JsonArray strings(String value, int n) {
        JsonArray a = new JsonArray();
        for (int i = 0; i < n; i++) a.add(value);
        return a;
    }

    private static void writeText(Path file, String text) {
        try {
            Files.createDirectories(file.getParent());
            Files.writeString(file, text, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }
}
