package io.github.v2a4j.synthetic;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.github.v2a4j.cogvlm.CogVlmConfig;
import io.github.v2a4j.cogvlm.CogVlmEncoder;
import io.github.v2a4j.io.SafetensorsWriter;
import io.github.v2a4j.unet.UNet;
import io.github.v2a4j.unet.UNetConfig;
import io.github.v2a4j.vae.VaeConfig;
import io.github.v2a4j.vae.VaeDecoder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The bundled demo model ({@code assets/demo-model}): the real pipeline's structure at tiny widths, with synthetic
 * weights ({@link SyntheticWeights}). It exercises every stage (96 frames × 66 vision slots through CogVLM2, 51 UNet evaluations with CFG, the
 * VAE to a 512-row spectrogram, Griffin-Lim at riffusion's real parameters) in seconds. <b>Its sound is noise</b>:
 * it shows that the machinery runs, nothing about audio quality.
 *
 * <p>Layout as {@code v2a convert} writes it. Regenerate with {@code assets/make-demo-model.sh}; the output is
 * byte-identical for the same code (a test checks the committed copy).
 */
public final class DemoModel {
    private DemoModel() {}

    static final long SEED = 20241205L;
    public static final int HIDDEN = 64;

    public static void main(String[] args) {
        if (args.length != 1) {
            System.err.println("usage: DemoModel OUT_DIR");
            System.exit(2);
        }
        write(Path.of(args[0]));
    }

    /** Writes the demo model directory (created if absent; existing files are replaced). */
    public static void write(Path dir) {
        Gson gson = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create();
        JsonObject cog = cogvlmConfig();
        JsonObject unet = unetConfig();
        JsonObject vae = vaeConfig();
        CogVlmConfig cogConfig = CogVlmConfig.parse(gson.toJson(cog));
        SyntheticWeights weights = new SyntheticWeights(SEED);
        writeComponent(dir.resolve("cogvlm"), "model.safetensors", gson.toJson(cog),
                CogVlmEncoder.parameterShapes(cogConfig), weights);
        writeText(dir.resolve("cogvlm/tokenizer.json"), tokenizerJson());
        writeComponent(dir.resolve("unet"), "model.safetensors", gson.toJson(unet),
                UNet.parameterShapes(UNetConfig.fromJson(unet)), weights);
        writeComponent(dir.resolve("vae"), "model.safetensors", gson.toJson(vae),
                VaeDecoder.parameterShapes(VaeConfig.parse(gson.toJson(vae))), weights);
        writeText(dir.resolve("scheduler/scheduler_config.json"), gson.toJson(schedulerConfig()) + "\n");
        writeText(dir.resolve("README.md"), """
                # v2a4j demo model: structure only

                Synthetic weights at tiny widths (CogVLM2 hidden 64, UNet channels 8–16, VAE channels 8), laid out
                as `v2a convert` writes a real model. Every stage of the pipeline runs on it; **the sound it makes is
                noise**. Regenerate with `assets/make-demo-model.sh` (deterministic).
                """);
    }

    private static void writeComponent(Path dir, String file, String configJson, Map<String, long[]> shapes,
                                       SyntheticWeights weights) {
        writeText(dir.resolve("config.json"), configJson + "\n");
        SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt")
                .metadata("v2a4j", "demo model: synthetic weights, structure only");
        shapes.forEach((name, shape) -> w.put(name, weights.tensor(name, shape)));
        w.write(dir.resolve(file));
    }

    static JsonObject cogvlmConfig() {
        JsonObject vision = new JsonObject();
        vision.addProperty("dropout_prob", 0.0);
        vision.addProperty("hidden_act", "gelu");
        vision.addProperty("hidden_size", 16);
        vision.addProperty("image_size", 224);
        vision.addProperty("in_channels", 3);
        vision.addProperty("intermediate_size", 32);
        vision.addProperty("layer_norm_eps", 1e-6);
        vision.addProperty("num_heads", 2);
        vision.addProperty("num_hidden_layers", 2);
        vision.addProperty("num_positions", 257);
        vision.addProperty("patch_size", 14);
        JsonObject c = new JsonObject();
        JsonArray arch = new JsonArray();
        arch.add("CogVLMVideoForCausalLM");
        c.add("architectures", arch);
        c.addProperty("bos_token_id", 256);
        c.addProperty("eos_token_id", 257);
        c.addProperty("pad_token_id", 258);
        c.addProperty("hidden_act", "silu");
        c.addProperty("hidden_size", HIDDEN);
        c.addProperty("intermediate_size", 96);
        c.addProperty("max_position_embeddings", 2048);
        c.addProperty("num_attention_heads", 4);
        c.addProperty("num_hidden_layers", 3);
        c.addProperty("num_multi_query_heads", 2);
        c.addProperty("rms_norm_eps", 1e-5);
        c.addProperty("template_version", "base");
        c.addProperty("torch_dtype", "float32");
        c.add("vision_config", vision);
        c.addProperty("vocab_size", 264);
        return c;
    }

    static JsonObject unetConfig() {
        JsonObject c = new JsonObject();
        c.addProperty("_class_name", "UNet2DConditionModel");
        c.addProperty("_diffusers_version", "0.31.0");
        c.addProperty("act_fn", "silu");
        c.addProperty("attention_head_dim", 2);
        c.add("block_out_channels", ints(8, 8, 16, 16));
        c.addProperty("center_input_sample", false);
        c.addProperty("cross_attention_dim", 16);
        c.add("down_block_types", strings("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D",
                "DownBlock2D"));
        c.addProperty("downsample_padding", 1);
        c.addProperty("flip_sin_to_cos", true);
        c.addProperty("freq_shift", 0);
        c.addProperty("in_channels", 4);
        c.addProperty("layers_per_block", 2);
        c.addProperty("mid_block_scale_factor", 1);
        c.addProperty("norm_eps", 1e-5);
        c.addProperty("norm_num_groups", 4);
        c.addProperty("out_channels", 4);
        c.add("up_block_types", strings("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D",
                "CrossAttnUpBlock2D"));
        JsonObject k4 = new JsonObject();
        k4.addProperty("video_embed_dim", HIDDEN);
        k4.addProperty("text_embed_dim", HIDDEN);
        k4.addProperty("text_projection_out", 16);
        c.add("v2a4j", k4);
        return c;
    }

    static JsonObject vaeConfig() {
        JsonObject c = new JsonObject();
        c.addProperty("_class_name", "AutoencoderKL");
        c.addProperty("_diffusers_version", "0.31.0");
        c.addProperty("act_fn", "silu");
        c.add("block_out_channels", ints(8, 8, 8, 8));
        c.addProperty("in_channels", 3);
        c.addProperty("latent_channels", 4);
        c.addProperty("layers_per_block", 1);
        c.addProperty("mid_block_add_attention", true);
        c.addProperty("norm_num_groups", 4);
        c.addProperty("out_channels", 3);
        c.addProperty("scaling_factor", 0.18215);
        c.add("up_block_types", strings("UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D",
                "UpDecoderBlock2D"));
        c.addProperty("use_post_quant_conv", true);
        return c;
    }

    static JsonObject schedulerConfig() {
        JsonObject c = new JsonObject();
        c.addProperty("_class_name", "PNDMScheduler");
        c.addProperty("beta_end", 0.012);
        c.addProperty("beta_schedule", "scaled_linear");
        c.addProperty("beta_start", 0.00085);
        c.addProperty("num_train_timesteps", 1000);
        c.addProperty("prediction_type", "epsilon");
        c.addProperty("set_alpha_to_one", false);
        c.addProperty("skip_prk_steps", true);
        c.addProperty("steps_offset", 1);
        c.addProperty("timestep_spacing", "leading");
        return c;
    }

    /**
     * A byte-level BPE tokenizer.json with the 256 byte symbols (GPT-2's byte→unicode table), no merges, and
     * Llama-3's three special tokens at ids 256–258: every UTF-8 text encodes, one token per byte.
     */
    static String tokenizerJson() {
        return tokenizerJson(256, List.of("<|begin_of_text|>", "<|end_of_text|>", "<|reserved_special_token_0|>"));
    }

    /**
     * The same byte-level tokenizer with {@code specials} at ids {@code firstSpecial}, {@code firstSpecial + 1}, …
     * The tokenizers library numbers added tokens right after the vocabulary, so ids 256 to {@code firstSpecial - 1}
     * hold filler tokens of several characters, which no merge can produce.
     */
    static String tokenizerJson(int firstSpecial, List<String> specials) {
        JsonObject vocab = new JsonObject();
        int[] byteToChar = byteToUnicode();
        for (int b = 0; b < 256; b++) vocab.addProperty(new String(Character.toChars(byteToChar[b])), b);
        for (int id = 256; id < firstSpecial; id++) vocab.addProperty("unused" + id, id);
        JsonArray added = new JsonArray();
        for (int i = 0; i < specials.size(); i++) {
            JsonObject t = new JsonObject();
            t.addProperty("id", firstSpecial + i);
            t.addProperty("content", specials.get(i));
            t.addProperty("single_word", false);
            t.addProperty("lstrip", false);
            t.addProperty("rstrip", false);
            t.addProperty("normalized", false);
            t.addProperty("special", true);
            added.add(t);
        }
        JsonObject byteLevel = new JsonObject();
        byteLevel.addProperty("type", "ByteLevel");
        byteLevel.addProperty("add_prefix_space", false);
        byteLevel.addProperty("trim_offsets", true);
        byteLevel.addProperty("use_regex", true);
        JsonObject model = new JsonObject();
        model.addProperty("type", "BPE");
        model.add("dropout", null);
        model.add("unk_token", null);
        model.add("continuing_subword_prefix", null);
        model.add("end_of_word_suffix", null);
        model.addProperty("fuse_unk", false);
        model.addProperty("byte_fallback", false);
        model.addProperty("ignore_merges", false);
        model.add("vocab", vocab);
        model.add("merges", new JsonArray());
        JsonObject t = new JsonObject();
        t.addProperty("version", "1.0");
        t.add("truncation", null);
        t.add("padding", null);
        t.add("added_tokens", added);
        t.add("normalizer", null);
        t.add("pre_tokenizer", byteLevel);
        t.add("post_processor", null);
        t.add("decoder", byteLevel);
        t.add("model", model);
        return new GsonBuilder().serializeNulls().setPrettyPrinting().disableHtmlEscaping().create().toJson(t) + "\n";
    }

    /** GPT-2's reversible byte → printable code point table used by byte-level BPE. */
    static int[] byteToUnicode() {
        int[] table = new int[256];
        boolean[] direct = new boolean[256];
        for (int b = '!'; b <= '~'; b++) direct[b] = true;
        for (int b = 0xA1; b <= 0xAC; b++) direct[b] = true;
        for (int b = 0xAE; b <= 0xFF; b++) direct[b] = true;
        int next = 256;
        for (int b = 0; b < 256; b++) table[b] = direct[b] ? b : next++;
        return table;
    }

    private static JsonArray ints(int... v) {
        JsonArray a = new JsonArray();
        for (int x : v) a.add(x);
        return a;
    }

    private static JsonArray strings(String... v) {
        JsonArray a = new JsonArray();
        for (String x : v) a.add(x);
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
