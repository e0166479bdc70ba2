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
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.LongConsumer;

/**
 * Synthetic Hugging Face folders laid out as the published checkpoints are, for {@code v2a convert} and
 * {@code v2a rehearse} without a download: {@code ai-forever/kandinsky-4-v2a} ({@code unet/}, {@code vae/},
 * {@code scheduler/}, diffusers config and file names) and {@code THUDM/cogvlm2-video-llama3-chat} (bf16 shards
 * {@code model-0000i-of-00006.safetensors} holding each tensor where the published index puts it,
 * {@code model.safetensors.index.json}, {@code config.json}, the tokenizer files). Every tensor the published files
 * hold is written, the ones {@code convert} drops included: names and shapes come from the converter's manifests
 * evaluated at each config, and the VAE encoder's from diffusers' {@code Encoder}. Values are
 * {@link SyntheticWeights}.
 *
 * <p>At {@link Scale#REAL} the configs are the published ones (K4's UNet, VAE and scheduler configs are not public:
 * they are SD-1.5's at the widths K4's code implies, as the converter assumes) and the checkpoints are full size:
 * 25.0 GB of CogVLM2 and 4.5 GB of K4. {@link Scale#TINY} keeps every layer at widths of a few channels.
 */
public final class UpstreamCheckpoints {
    private UpstreamCheckpoints() {}

    /** The widths written: the published ones, or a few channels (seconds to write and run). */
    public enum Scale { REAL, TINY }

    /**
     * What to write. {@code decoderLayers} is how many CogVLM2 decoder layers a pass runs: the checkpoint holds one
     * more, as the published one holds 32 of which K4 reads 31.
     */
    public record Shape(Scale scale, int visionLayers, int decoderLayers) {
        public static final int PUBLISHED_VISION_LAYERS = 63;
        public static final int PUBLISHED_DECODER_LAYERS = 31;

        public Shape {
            if (visionLayers < 1 || visionLayers > PUBLISHED_VISION_LAYERS) {
                throw new IllegalArgumentException("vision layers must be 1.." + PUBLISHED_VISION_LAYERS + ", not "
                        + visionLayers);
            }
            if (decoderLayers < 1 || decoderLayers > PUBLISHED_DECODER_LAYERS) {
                throw new IllegalArgumentException("decoder layers must be 1.." + PUBLISHED_DECODER_LAYERS + ", not "
                        + decoderLayers);
            }
        }

        /** Every layer of the published model at {@code scale}. */
        public static Shape all(Scale scale) {
            return new Shape(scale, PUBLISHED_VISION_LAYERS, PUBLISHED_DECODER_LAYERS);
        }
    }

    /** Hugging Face's {@code max_shard_size="5GB"}: what the published CogVLM2 index was split at. */
    static final long PUBLISHED_SHARD_BYTES = 5_000_000_000L;
    /** Shards of the published CogVLM2 checkpoint. */
    static final int PUBLISHED_SHARDS = 6;

    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create();

    /** Writes {@code OUT/kandinsky-4-v2a} and {@code OUT/cogvlm2-video-llama3-chat} at tiny widths. */
    public static void main(String[] args) {
        if (args.length != 1) {
            System.err.println("usage: UpstreamCheckpoints OUT_DIR   (writes tiny synthetic upstream folders)");
            System.exit(2);
        }
        Path out = Path.of(args[0]);
        writeTiny(out.resolve("kandinsky-4-v2a"), out.resolve("cogvlm2-video-llama3-chat"), 1);
    }

    /** Both folders at tiny widths with every layer of the published architecture. */
    public static void writeTiny(Path kandinsky, Path cogvlm, long seed) {
        write(kandinsky, cogvlm, Shape.all(Scale.TINY), seed, n -> {});
    }

    /** Both folders; {@code written} hears the bytes of every piece of tensor data once it is on disk. */
    public static void write(Path kandinsky, Path cogvlm, Shape shape, long seed, LongConsumer written) {
        SyntheticWeights weights = new SyntheticWeights(seed);
        JsonObject cog = cogvlmConfig(shape);
        writeCogvlm(cogvlm, cog, tokenizerJson(shape.scale()), tokenizerConfigJson(shape.scale()), Dtype.BF16, weights,
                written);
        writeKandinsky(kandinsky, unetConfig(shape.scale()), vaeConfig(shape.scale()), DemoModel.schedulerConfig(),
                cog.get("hidden_size").getAsLong(), Dtype.F32, weights, written);
    }

    /** Tensor data bytes {@link #write} writes for {@code shape} (headers and configs not counted). */
    public static long dataBytes(Shape shape) {
        JsonObject cog = cogvlmConfig(shape);
        long bytes = 2 * elements(cogvlmShapes(cog, Path.of("config.json")).values());
        long hidden = cog.get("hidden_size").getAsLong();
        bytes += 4 * elements(unetShapes(unetConfig(shape.scale()), hidden, Path.of("config.json")).values());
        bytes += 4 * elements(vaeShapes(vaeConfig(shape.scale()), Path.of("config.json")).values());
        return bytes;
    }

    private static long elements(Collection<long[]> shapes) {
        long n = 0;
        for (long[] s : shapes) {
            long e = 1;
            for (long d : s) e *= d;
            n += e;
        }
        return n;
    }

    // ---- configs --------------------------------------------------------------------------------------------------

    /** CogVLM2's config.json with the layer counts of {@code shape}. */
    public static JsonObject cogvlmConfig(Shape shape) {
        JsonObject c = shape.scale() == Scale.REAL ? publishedCogvlmConfig() : tinyCogvlmConfig();
        c.addProperty("num_hidden_layers", shape.decoderLayers() + 1);
        c.getAsJsonObject("vision_config").addProperty("num_hidden_layers", shape.visionLayers());
        return c;
    }

    /** THUDM/cogvlm2-video-llama3-chat's config.json. */
    static JsonObject publishedCogvlmConfig() {
        JsonObject c = new JsonObject();
        c.add("architectures", strings("CogVLMVideoForCausalLM", 1));
        JsonObject auto = new JsonObject();
        auto.addProperty("AutoConfig", "configuration_cogvlm.CogVLMConfig");
        auto.addProperty("AutoModelForCausalLM", "modeling_cogvlm.CogVLMVideoForCausalLM");
        c.add("auto_map", auto);
        c.addProperty("bos_token_id", 128000);
        c.addProperty("eos_token_id", 128001);
        c.addProperty("pad_token_id", 128002);
        c.addProperty("hidden_act", "silu");
        c.addProperty("hidden_size", 4096);
        c.addProperty("initializer_range", 0.02);
        c.addProperty("intermediate_size", 14336);
        c.addProperty("max_position_embeddings", 2048);
        c.addProperty("num_attention_heads", 32);
        c.addProperty("num_hidden_layers", 32);
        c.addProperty("num_multi_query_heads", 8);
        c.addProperty("rms_norm_eps", 1e-5);
        c.addProperty("template_version", "base");
        c.addProperty("tie_word_embeddings", false);
        c.addProperty("torch_dtype", "bfloat16");
        c.addProperty("transformers_version", "4.41.0");
        c.addProperty("use_cache", true);
        JsonObject v = new JsonObject();
        v.addProperty("dropout_prob", 0.0);
        v.addProperty("hidden_act", "gelu");
        v.addProperty("hidden_size", 1792);
        v.addProperty("image_size", 224);
        v.addProperty("in_channels", 3);
        v.addProperty("intermediate_size", 15360);
        v.addProperty("layer_norm_eps", 1e-6);
        v.addProperty("num_heads", 16);
        v.addProperty("num_hidden_layers", 63);
        v.addProperty("num_positions", 257);
        v.addProperty("patch_size", 14);
        c.add("vision_config", v);
        c.addProperty("vocab_size", 128256);
        return c;
    }

    /** The demo model's CogVLM2 widths, with one token per frame after the 2×2 conv (a 2×2 patch grid). */
    static JsonObject tinyCogvlmConfig() {
        JsonObject c = DemoModel.cogvlmConfig();
        JsonObject vision = c.getAsJsonObject("vision_config");
        vision.addProperty("image_size", 28);
        vision.addProperty("num_positions", 5);
        return c;
    }

    /** K4's UNet config: SD-1.5's, with the published channel pattern (b0 ≠ b1 ≠ b2 = b3) at tiny widths. */
    public static JsonObject unetConfig(Scale scale) {
        JsonObject c = DemoModel.unetConfig();
        if (scale == Scale.TINY) {
            c.add("block_out_channels", ints(8, 16, 32, 32));
            return c;
        }
        c.remove("v2a4j"); // the UNet's video and text widths default to CogVLM2's 4096
        c.addProperty("attention_head_dim", 8);
        c.add("block_out_channels", ints(320, 640, 1280, 1280));
        c.addProperty("cross_attention_dim", 768);
        c.addProperty("norm_num_groups", 32);
        c.addProperty("sample_size", 64);
        return c;
    }

    /** The SD-1.x VAE config (encoder included), at tiny widths for {@link Scale#TINY}. */
    public static JsonObject vaeConfig(Scale scale) {
        JsonObject c = DemoModel.vaeConfig();
        c.addProperty("layers_per_block", 2);
        c.add("down_block_types", strings("DownEncoderBlock2D", 4));
        if (scale == Scale.TINY) {
            c.add("block_out_channels", ints(8, 16, 32, 32));
            return c;
        }
        c.add("block_out_channels", ints(128, 256, 512, 512));
        c.addProperty("norm_num_groups", 32);
        c.addProperty("sample_size", 512);
        return c;
    }

    // ---- Kandinsky-4 ----------------------------------------------------------------------------------------------

    /**
     * {@code unet/config.json}, {@code unet/diffusion_pytorch_model.safetensors}, the same two in {@code vae/}
     * (encoder, {@code quant_conv}, decoder, {@code post_quant_conv}) and {@code scheduler/scheduler_config.json}.
     *
     * @param cogvlmHidden the width of the CogVLM2 embeddings the UNet's video and text projections take
     */
    public static void writeKandinsky(Path dir, JsonObject unetConfig, JsonObject vaeConfig, JsonObject schedulerConfig,
                                      long cogvlmHidden, Dtype dtype, SyntheticWeights weights, LongConsumer written) {
        Map<String, long[]> unet = unetShapes(unetConfig, cogvlmHidden, dir.resolve("unet/config.json"));
        writeText(dir.resolve("unet/config.json"), GSON.toJson(unetConfig) + "\n");
        SyntheticCheckpoint.write(dir.resolve("unet/diffusion_pytorch_model.safetensors"), unet, dtype, weights, written);

        Map<String, long[]> vae = vaeShapes(vaeConfig, dir.resolve("vae/config.json"));
        writeText(dir.resolve("vae/config.json"), GSON.toJson(vaeConfig) + "\n");
        SyntheticCheckpoint.write(dir.resolve("vae/diffusion_pytorch_model.safetensors"), vae, dtype, weights, written);

        writeText(dir.resolve("scheduler/scheduler_config.json"), GSON.toJson(schedulerConfig) + "\n");
    }

    private static Map<String, long[]> unetShapes(JsonObject config, long cogvlmHidden, Path file) {
        return ExpectedTensors.load(ExpectedTensors.UNET).shapes(ConfigSymbols.unet(config, cogvlmHidden, file));
    }

    private static Map<String, long[]> vaeShapes(JsonObject config, Path file) {
        Map<String, long[]> vae = new LinkedHashMap<>(vaeEncoderShapes(config));
        vae.putAll(ExpectedTensors.load(ExpectedTensors.VAE).shapes(ConfigSymbols.vae(config, file)));
        return vae;
    }

    // ---- CogVLM2 --------------------------------------------------------------------------------------------------

    /** {@code model-0000i-of-00006.safetensors}, {@code model.safetensors.index.json} and the config files. */
    public static void writeCogvlm(Path dir, JsonObject config, String tokenizerJson, String tokenizerConfigJson,
                                   Dtype dtype, SyntheticWeights weights, LongConsumer written) {
        writeText(dir.resolve("config.json"), GSON.toJson(config) + "\n");
        writeText(dir.resolve("tokenizer.json"), tokenizerJson);
        writeText(dir.resolve("tokenizer_config.json"), tokenizerConfigJson);
        Map<String, long[]> all = cogvlmShapes(config, dir.resolve("config.json"));
        SyntheticCheckpoint.writeSharded(dir, "model", cogvlmShards(all), dtype, weights, written);
    }

    private static Map<String, long[]> cogvlmShapes(JsonObject config, Path file) {
        Map<String, Long> symbols = ConfigSymbols.cogvlm(config, file);
        return ExpectedTensors.cogvlm(symbols).shapes(symbols);
    }

    /**
     * The tensors of each of the six shards: every tensor in the shard the published index puts the tensor of its name
     * in ({@link #publishedShards}); a checkpoint with fewer layers leaves some shards empty.
     */
    static List<Map<String, long[]>> cogvlmShards(Map<String, long[]> all) {
        Map<String, Integer> shardOf = publishedShards();
        List<Map<String, long[]>> shards = new ArrayList<>();
        for (int i = 0; i < PUBLISHED_SHARDS; i++) shards.add(new LinkedHashMap<>());
        for (String name : stateDictOrder(all.keySet())) {
            Integer i = shardOf.get(name);
            if (i == null) throw new IllegalStateException(name + " is not a tensor of the published CogVLM2 checkpoint");
            shards.get(i).put(name, all.get(name));
        }
        return shards;
    }

    /**
     * The published index's shard of every tensor (0-based), as {@code save_pretrained} splits a model: tensors in
     * {@code state_dict} order, a new shard started whenever the next tensor would take the current one over
     * {@value #PUBLISHED_SHARD_BYTES} bytes, at the published shapes in bf16.
     */
    static Map<String, Integer> publishedShards() {
        ExpectedTensors m = ExpectedTensors.load(ExpectedTensors.COGVLM);
        Map<String, long[]> shapes = m.shapes(m.publishedSymbols());
        Map<String, Integer> shardOf = new HashMap<>();
        int shard = 0;
        long bytes = 0;
        for (String name : stateDictOrder(shapes.keySet())) {
            long b = 2;
            for (long d : shapes.get(name)) b *= d;
            if (bytes > 0 && bytes + b > PUBLISHED_SHARD_BYTES) {
                shard++;
                bytes = 0;
            }
            shardOf.put(name, shard);
            bytes += b;
        }
        if (shard + 1 != PUBLISHED_SHARDS) throw new IllegalStateException("published split gives " + (shard + 1) + " shards");
        return shardOf;
    }

    /**
     * CogVLM2's tensor names in {@code state_dict} order: a module's own parameters and buffers first, then its
     * children in the order {@code __init__} registers them ({@code CogVLMVideoForCausalLM}: {@code model}
     * (embed_tokens, layers, norm, vision) then {@code lm_head}; a decoder layer: self_attn (rotary_emb first),
     * mlp, the two norms; EVA2-CLIP: boi and eoi, patch_embedding, transformer, linear_proj, conv).
     */
    static List<String> stateDictOrder(Collection<String> names) {
        List<String> sorted = new ArrayList<>(names);
        sorted.sort(Comparator.comparing(UpstreamCheckpoints::stateDictKey));
        return sorted;
    }

    private static final List<String> TOP = List.of(
            "model.embed_tokens.weight",
            ExpectedTensors.COGVLM_DECODER_LAYERS,
            "model.norm.weight",
            "model.vision.boi",
            "model.vision.eoi",
            "model.vision.patch_embedding.cls_embedding",
            "model.vision.patch_embedding.proj.weight",
            "model.vision.patch_embedding.proj.bias",
            "model.vision.patch_embedding.position_embedding.weight",
            ExpectedTensors.COGVLM_VISION_LAYERS,
            "model.vision.linear_proj.linear_proj.weight",
            "model.vision.linear_proj.norm1.weight",
            "model.vision.linear_proj.norm1.bias",
            "model.vision.linear_proj.dense_h_to_4h.weight",
            "model.vision.linear_proj.gate_proj.weight",
            "model.vision.linear_proj.dense_4h_to_h.weight",
            "model.vision.conv.weight",
            "model.vision.conv.bias",
            "lm_head.weight");

    private static final List<String> DECODER_LAYER = List.of(
            "self_attn.rotary_emb.inv_freq",
            "self_attn.language_expert_query_key_value.weight",
            "self_attn.language_expert_dense.weight",
            "mlp.language_mlp.gate_proj.weight",
            "mlp.language_mlp.up_proj.weight",
            "mlp.language_mlp.down_proj.weight",
            "input_layernorm.weight",
            "post_attention_layernorm.weight");

    private static final List<String> VISION_LAYER = List.of(
            "input_layernorm.weight", "input_layernorm.bias",
            "attention.query_key_value.weight", "attention.query_key_value.bias",
            "attention.dense.weight", "attention.dense.bias",
            "mlp.fc1.weight", "mlp.fc1.bias",
            "mlp.fc2.weight", "mlp.fc2.bias",
            "post_attention_layernorm.weight", "post_attention_layernorm.bias");

    /** (top-level position, layer, position in the layer), zero-padded so that strings sort as the tuples do. */
    private static String stateDictKey(String name) {
        for (String prefix : List.of(ExpectedTensors.COGVLM_DECODER_LAYERS, ExpectedTensors.COGVLM_VISION_LAYERS)) {
            if (name.startsWith(prefix)) {
                int dot = name.indexOf('.', prefix.length());
                int layer = Integer.parseInt(name.substring(prefix.length(), dot));
                List<String> within = prefix.equals(ExpectedTensors.COGVLM_DECODER_LAYERS) ? DECODER_LAYER : VISION_LAYER;
                return key(TOP.indexOf(prefix), layer, indexIn(within, name.substring(dot + 1), name));
            }
        }
        return key(indexIn(TOP, name, name), 0, 0);
    }

    private static int indexIn(List<String> list, String item, String name) {
        int i = list.indexOf(item);
        if (i < 0) throw new IllegalStateException(name + ": not a tensor of CogVLM2's published module tree");
        return i;
    }

    private static String key(int a, int b, int c) {
        return String.format(Locale.ROOT, "%03d.%03d.%03d", a, b, c);
    }

    // ---- tokenizer ------------------------------------------------------------------------------------------------

    /**
     * A byte-level BPE {@code tokenizer.json}: the 256 byte symbols at ids 0–255, no merges (a prompt is one token per
     * UTF-8 byte), and the special tokens at their real ids: Llama-3's 256 (128000–128255) at {@link Scale#REAL},
     * the demo model's three (256–258) at {@link Scale#TINY}.
     */
    static String tokenizerJson(Scale scale) {
        return scale == Scale.REAL ? DemoModel.tokenizerJson(128000, llama3Specials()) : DemoModel.tokenizerJson();
    }

    /** Llama-3's special tokens from id 128000 on. */
    static List<String> llama3Specials() {
        List<String> s = new ArrayList<>(List.of("<|begin_of_text|>", "<|end_of_text|>",
                "<|reserved_special_token_0|>", "<|reserved_special_token_1|>", "<|reserved_special_token_2|>",
                "<|reserved_special_token_3|>", "<|start_header_id|>", "<|end_header_id|>",
                "<|reserved_special_token_4|>", "<|eot_id|>"));
        for (int i = 5; s.size() < 256; i++) s.add("<|reserved_special_token_" + i + "|>");
        return s;
    }

    /** Llama-3's tokenizer_config.json fields: its special tokens and their ids. */
    static String tokenizerConfigJson(Scale scale) {
        JsonObject t = new JsonObject();
        if (scale == Scale.REAL) {
            JsonObject decoder = new JsonObject();
            List<String> specials = llama3Specials();
            for (int i = 0; i < specials.size(); i++) {
                JsonObject a = new JsonObject();
                a.addProperty("content", specials.get(i));
                a.addProperty("lstrip", false);
                a.addProperty("normalized", false);
                a.addProperty("rstrip", false);
                a.addProperty("single_word", false);
                a.addProperty("special", true);
                decoder.add(Integer.toString(128000 + i), a);
            }
            t.add("added_tokens_decoder", decoder);
        }
        t.addProperty("bos_token", "<|begin_of_text|>");
        t.addProperty("eos_token", "<|end_of_text|>");
        t.addProperty("model_max_length", 2048);
        t.addProperty("tokenizer_class", "PreTrainedTokenizerFast");
        return GSON.toJson(t) + "\n";
    }

    // ---- VAE encoder ----------------------------------------------------------------------------------------------

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
