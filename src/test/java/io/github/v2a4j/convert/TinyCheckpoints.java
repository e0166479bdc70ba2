package io.github.v2a4j.convert;

import com.google.gson.Gson;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Synthetic Hugging Face folders with the REAL tensor names (from the manifests) at tiny sizes (from tiny config.json
 * values), written by a small independent safetensors writer. Tensor values are exactly representable in bf16 so that
 * every dtype conversion can be checked exactly: element k of tensor t is {@link #value(int, long)}.
 */
final class TinyCheckpoints {

    static final Gson GSON = new Gson();

    /** One tensor to write. */
    record T(String name, String dtype, long[] shape, int id) {}

    static final String COG_CONFIG = """
            {"architectures": ["CogVLMVideoForCausalLM"], "hidden_size": 8, "intermediate_size": 12,
             "num_attention_heads": 2, "num_multi_query_heads": 1, "num_hidden_layers": 32, "vocab_size": 16,
             "vision_config": {"hidden_size": 6, "intermediate_size": 10, "in_channels": 3, "patch_size": 2,
                               "num_positions": 5, "num_hidden_layers": 63, "num_heads": 2}}
            """;
    static final String UNET_CONFIG = """
            {"_class_name": "UNet2DConditionModel", "block_out_channels": [4, 8, 16, 16], "in_channels": 4,
             "out_channels": 4, "cross_attention_dim": 6}
            """;
    static final String VAE_CONFIG = """
            {"_class_name": "AutoencoderKL", "block_out_channels": [2, 4, 8, 8], "latent_channels": 4,
             "out_channels": 3, "layers_per_block": 2}
            """;

    /** Value of element k of tensor id: a multiple of 1/64 in [-2, 2), exact in bf16, f16 and f32. */
    static float value(int id, long k) {
        return ((int) ((id * 31L + k * 7L) % 256) - 128) / 64f;
    }

    /** The K4 folder: unet sharded in 2 with an index, vae single file with encoder/quant_conv (+ legacy names if asked). */
    static void kandinsky(Path k4, boolean legacyVae) throws IOException {
        Files.createDirectories(k4.resolve("unet"));
        Files.createDirectories(k4.resolve("vae"));
        Files.createDirectories(k4.resolve("scheduler"));
        Files.writeString(k4.resolve("unet/config.json"), UNET_CONFIG);
        Files.writeString(k4.resolve("vae/config.json"), VAE_CONFIG);
        Files.writeString(k4.resolve("scheduler/scheduler_config.json"),
                "{\"_class_name\": \"PNDMScheduler\", \"skip_prk_steps\": true}");
        Map<String, Long> cog = ConfigSymbols.cogvlm(GSON.fromJson(COG_CONFIG, com.google.gson.JsonObject.class), k4);
        List<T> unet = tensors(ExpectedTensors.load(ExpectedTensors.UNET),
                ConfigSymbols.unet(GSON.fromJson(UNET_CONFIG, com.google.gson.JsonObject.class), cog.get("hidden"), k4),
                "F32", 1000);
        writeSharded(k4.resolve("unet"), "diffusion_pytorch_model", List.of(unet.subList(0, 400), unet.subList(400, unet.size())));
        List<T> vae = new ArrayList<>();
        vae.add(new T("encoder.conv_in.weight", "F16", new long[] {2, 3, 3, 3}, 5000));
        vae.add(new T("encoder.conv_in.bias", "F16", new long[] {2}, 5001));
        vae.add(new T("quant_conv.weight", "F16", new long[] {8, 8, 1, 1}, 5002));
        vae.add(new T("quant_conv.bias", "F16", new long[] {8}, 5003));
        for (T t : tensors(ExpectedTensors.load(ExpectedTensors.VAE),
                ConfigSymbols.vae(GSON.fromJson(VAE_CONFIG, com.google.gson.JsonObject.class), k4), "F16", 2000)) {
            String n = t.name();
            long[] s = t.shape();
            if (legacyVae && n.startsWith("decoder.mid_block.attentions.0.")) {
                n = n.replace(".to_q.", ".query.").replace(".to_k.", ".key.").replace(".to_v.", ".value.")
                        .replace(".to_out.0.", ".proj_attn.");
                if (s.length == 2) s = new long[] {s[0], s[1], 1, 1}; // oldest files: 1x1 conv weights
            }
            vae.add(new T(n, t.dtype(), s, t.id()));
        }
        writeFile(k4.resolve("vae/diffusion_pytorch_model.safetensors"), vae);
    }

    /** The CogVLM folder: 6 shards like the real one (lm_head alone in the last), bf16, with index and tokenizer files. */
    static void cogvlm(Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("config.json"), COG_CONFIG);
        Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": {\"type\": \"BPE\"}}");
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"bos_token\": \"<|begin_of_text|>\"}");
        List<T> all = tensors(ExpectedTensors.load(ExpectedTensors.COGVLM),
                ConfigSymbols.cogvlm(GSON.fromJson(COG_CONFIG, com.google.gson.JsonObject.class), dir), "BF16", 0);
        List<T> head = all.stream().filter(t -> t.name().equals("lm_head.weight")).toList();
        List<T> rest = all.stream().filter(t -> !t.name().equals("lm_head.weight")).toList();
        int[] counts = {74, 91, 89, 438, 336}; // tensors per shard in the real index (shard 6 = lm_head)
        List<List<T>> shards = new ArrayList<>();
        int at = 0;
        for (int c : counts) {
            shards.add(rest.subList(at, at + c));
            at += c;
        }
        shards.add(head);
        writeSharded(dir, "model", shards);
    }

    static List<T> tensors(ExpectedTensors ex, Map<String, Long> symbols, String dtype, int idBase) {
        List<T> out = new ArrayList<>();
        int id = idBase;
        for (ExpectedTensors.Entry e : ex.entries()) out.add(new T(e.name(), dtype, ExpectedTensors.shape(e, symbols), id++));
        return out;
    }

    static void writeSharded(Path dir, String stem, List<List<T>> shards) throws IOException {
        Map<String, String> wm = new LinkedHashMap<>();
        for (int i = 0; i < shards.size(); i++) {
            String f = String.format("%s-%05d-of-%05d.safetensors", stem, i + 1, shards.size());
            writeFile(dir.resolve(f), shards.get(i));
            for (T t : shards.get(i)) wm.put(t.name(), f);
        }
        Map<String, Object> idx = new LinkedHashMap<>();
        idx.put("metadata", Map.of("total_size", 0));
        idx.put("weight_map", wm);
        Files.writeString(dir.resolve(stem + ".safetensors.index.json"), GSON.toJson(idx));
    }

    /** A plain safetensors writer (independent of the converter's). */
    static void writeFile(Path file, List<T> tensors) throws IOException {
        Map<String, Object> header = new LinkedHashMap<>();
        header.put("__metadata__", Map.of("format", "pt"));
        long off = 0;
        List<byte[]> data = new ArrayList<>();
        for (T t : tensors) {
            byte[] b = encode(t);
            header.put(t.name(), Map.of("dtype", t.dtype(), "shape", t.shape(), "data_offsets", new long[] {off, off + b.length}));
            off += b.length;
            data.add(b);
        }
        byte[] json = GSON.toJson(header).getBytes(StandardCharsets.UTF_8);
        ByteBuffer bb = ByteBuffer.allocate((int) (8 + json.length + off)).order(ByteOrder.LITTLE_ENDIAN);
        bb.putLong(json.length).put(json);
        for (byte[] b : data) bb.put(b);
        Files.write(file, bb.array());
    }

    static byte[] encode(T t) {
        long n = 1;
        for (long d : t.shape()) n *= d;
        int es = t.dtype().equals("F32") ? 4 : 2;
        ByteBuffer b = ByteBuffer.allocate((int) (n * es)).order(ByteOrder.LITTLE_ENDIAN);
        for (long k = 0; k < n; k++) {
            float v = value(t.id(), k);
            switch (t.dtype()) {
                case "F32" -> b.putFloat(v);
                case "BF16" -> b.putShort((short) (Float.floatToIntBits(v) >>> 16));
                case "F16" -> b.putShort(floatToHalfExact(v));
                default -> throw new IllegalArgumentException(t.dtype());
            }
        }
        return b.array();
    }

    /** For the test values only (multiples of 1/64 in [-2, 2): normal halves, exact). */
    static short floatToHalfExact(float v) {
        if (v == 0) return 0;
        int bits = Float.floatToIntBits(v);
        int sign = (bits >>> 16) & 0x8000;
        int exp = ((bits >>> 23) & 0xff) - 127 + 15;
        int mant = (bits >>> 13) & 0x3ff;
        return (short) (sign | (exp << 10) | mant);
    }
}
