package io.github.v2a4j.cogvlm;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The fields of CogVLM2-video's {@code config.json} (class {@code CogVLMConfig}) that the encoder uses.
 * Defaults are the real model's values; a tiny golden config overrides them. {@code bos_token_id} and
 * {@code pad_token_id} stand in for the tokenizer's BOS and the vision-slot id (upstream takes
 * {@code tokenizer.bos_token_id} and hard-codes {@code pad_token_id = 128002}; the real config.json agrees, and
 * the slot id changes no number because vision rows are overwritten before use).
 */
public record CogVlmConfig(
        int hiddenSize,
        int intermediateSize,
        int numAttentionHeads,
        int numKvHeads,
        int numHiddenLayers,
        double rmsNormEps,
        int vocabSize,
        int bosTokenId,
        int padTokenId,
        Vision vision) {

    /** {@code vision_config}. */
    public record Vision(
            int hiddenSize,
            int intermediateSize,
            int numHeads,
            int numHiddenLayers,
            int imageSize,
            int patchSize,
            int inChannels,
            double layerNormEps,
            int numPositions) {

        public int headDim() {
            return hiddenSize / numHeads;
        }

        /** Patches per side (16 for 224/14). */
        public int grid() {
            return imageSize / patchSize;
        }
    }

    /** RoPE base: hard-coded in {@code VisionExpertAttention}, not part of the config. */
    public static final double ROPE_BASE = 500000.0;

    /** The GLU adapter's LayerNorm is {@code nn.LayerNorm(hidden)}: PyTorch's default eps, not the vision eps. */
    public static final double ADAPTER_LAYER_NORM_EPS = 1e-5;

    public int headDim() {
        return hiddenSize / numAttentionHeads;
    }

    /** Vision rows per frame: boi + (grid/2)² + eoi; 66 for the real model (hard-coded as 64+2 upstream). */
    public int tokensPerFrame() {
        int g = vision.grid() / 2;
        return g * g + 2;
    }

    public static CogVlmConfig real() {
        return new CogVlmConfig(4096, 14336, 32, 8, 32, 1e-5, 128256, 128000, 128002,
                new Vision(1792, 15360, 16, 63, 224, 14, 3, 1e-6, 257));
    }

    public static CogVlmConfig read(Path configJson) {
        try {
            return parse(Files.readString(configJson, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + configJson, e);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(configJson + ": not a CogVLM2 config: " + e.getMessage(), e);
        }
    }

    public static CogVlmConfig parse(String json) {
        JsonObject o = JsonParser.parseString(json).getAsJsonObject();
        CogVlmConfig d = real();
        JsonObject v = o.has("vision_config") ? o.getAsJsonObject("vision_config") : new JsonObject();
        Vision dv = d.vision();
        Vision vision = new Vision(
                i(v, "hidden_size", dv.hiddenSize()),
                i(v, "intermediate_size", dv.intermediateSize()),
                i(v, "num_heads", dv.numHeads()),
                i(v, "num_hidden_layers", dv.numHiddenLayers()),
                i(v, "image_size", dv.imageSize()),
                i(v, "patch_size", dv.patchSize()),
                i(v, "in_channels", dv.inChannels()),
                f(v, "layer_norm_eps", dv.layerNormEps()),
                i(v, "num_positions", dv.numPositions()));
        return new CogVlmConfig(
                i(o, "hidden_size", d.hiddenSize()),
                i(o, "intermediate_size", d.intermediateSize()),
                i(o, "num_attention_heads", d.numAttentionHeads()),
                i(o, "num_multi_query_heads", d.numKvHeads()),
                i(o, "num_hidden_layers", d.numHiddenLayers()),
                f(o, "rms_norm_eps", d.rmsNormEps()),
                i(o, "vocab_size", d.vocabSize()),
                i(o, "bos_token_id", d.bosTokenId()),
                i(o, "pad_token_id", d.padTokenId()),
                vision);
    }

    private static int i(JsonObject o, String k, int dflt) {
        return o.has(k) && !o.get(k).isJsonNull() ? o.get(k).getAsInt() : dflt;
    }

    private static double f(JsonObject o, String k, double dflt) {
        return o.has(k) && !o.get(k).isJsonNull() ? o.get(k).getAsDouble() : dflt;
    }
}
