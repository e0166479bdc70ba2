package io.github.v2a4j.cogvlm;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.v2a4j.nn.Binder;
import io.github.v2a4j.nn.Trace;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The tiny CogVLM2-video goldens (bundles cogvlm-tiny: K4 extract_video_embedding on a 2-frame 40×64 clip;
 * cogvlm-tiny-text: extract_text_embedding of 7 ids), compared tensor by tensor along the whole pass: every vision
 * layer and its sub-modules, the conv and GLU adapter, the vision output, the embeddings after the vision overwrite,
 * position ids (exact), every decoder layer used (0..n−2) and its sub-modules, RoPE'd q/k, and the final embeddings.
 *
 * <p>Tolerance 1e-5 relative to max|ref| per tensor (the bundle's hint): fp32 CPU at these sizes differs from
 * PyTorch only by summation order (GEMM, softmax, norms); our pass runs end to end from the uint8 clip, so each
 * tensor also carries the rounding of everything before it (the preprocessed frames already differ by ≤1 ulp).
 */
class CogVlmGoldenTest {

    static final double TOL = 1e-5;

    @Test
    void videoEmbeddingMatchesUpstreamModuleByModule() throws IOException {
        Path b = Golden.bundle("cogvlm-tiny");
        CogVlmConfig cfg = CogVlmConfig.read(b.resolve("config.json"));
        MapTensorSource weights = MapTensorSource.read(b.resolve("weights.safetensors"));
        MapTensorSource io = MapTensorSource.read(b.resolve("io.safetensors"));
        MapTensorSource act = MapTensorSource.read(b.resolve("activations.safetensors"));
        CogVlmEncoder enc = new CogVlmEncoder(cfg, weights, null, "test", 1);
        enc.verifyCheckpoint();

        Trace trace = Trace.all();
        INDArray got = enc.videoEmbedding(io.raw("video"), trace);

        List<Golden.Error> errors = compareTrace(trace, act, aliases(b));
        errors.add(Golden.compare("video_embedding (io)", got, io.raw("video_embedding")));
        assertThat(names(errors)).contains(
                "model.vision.transformer.layers.0.out", "model.vision.transformer.layers.1.out",
                "model.vision.conv.out", "model.vision.linear_proj.out", "model.vision.out",
                "model.layers.0.in.0", "model.layers.0.out.0", "model.layers.1.out.0",
                "model.layers.1.self_attn.rotary_emb.out.0");
        assertThat(trace.recorded()).doesNotContainKey("model.layers.2.out.0"); // hidden_states[-2]: last layer skipped
        long[] pos = trace.recorded().get("build_position_ids.out").data().asLong();
        assertThat(pos).containsExactly(act.raw("build_position_ids.out").data().asLong());
        Golden.assertAll(errors, TOL, "fp32 CPU, summation order only");
    }

    @Test
    void textEmbeddingMatchesUpstreamModuleByModule() throws IOException {
        Path b = Golden.bundle("cogvlm-tiny-text");
        CogVlmConfig cfg = CogVlmConfig.read(b.resolve("config.json"));
        MapTensorSource weights = MapTensorSource.read(b.resolve("weights.safetensors"));
        MapTensorSource io = MapTensorSource.read(b.resolve("io.safetensors"));
        MapTensorSource act = MapTensorSource.read(b.resolve("activations.safetensors"));
        CogVlmEncoder enc = new CogVlmEncoder(cfg, weights, null, "test", 1);

        long[] ids = io.raw("text_ids").data().asLong();
        int[] textIds = new int[ids.length];
        for (int i = 0; i < ids.length; i++) textIds[i] = (int) ids[i];
        Trace trace = Trace.all();
        INDArray got = enc.textEmbedding(textIds, trace);

        assertThat(trace.recorded().get("build_position_ids.out").data().asLong())
                .containsExactly(act.raw("build_position_ids.out").data().asLong());
        List<Golden.Error> errors = compareTrace(trace, act, aliases(b));
        errors.add(Golden.compare("text_embedding (io)", got, io.raw("text_embedding")));
        assertThat(names(errors)).contains("model.embed_tokens.out", "model.layers.0.out.0", "model.layers.1.out.0");
        Golden.assertAll(errors, TOL, "fp32 CPU, summation order only");

        // prompt and negative prompt in one sweep over the weights: the same numbers as one pass each
        int[] other = {3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5};
        List<INDArray> both = enc.textEmbeddings(List.of(textIds, other));
        assertThat(both.get(0).data().asFloat()).isEqualTo(got.data().asFloat());
        assertThat(both.get(1).data().asFloat()).isEqualTo(enc.textEmbedding(other, Trace.OFF).data().asFloat());
    }

    /**
     * Each block on its own golden input (no propagated error): every vision layer, the adapter (conv + GLU) and every
     * decoder layer, including the last one, which K4 does not use but whose weights and golden tensors exist.
     */
    @Test
    void eachBlockOnItsGoldenInput() throws IOException {
        Path b = Golden.bundle("cogvlm-tiny");
        CogVlmConfig cfg = CogVlmConfig.read(b.resolve("config.json"));
        MapTensorSource weights = MapTensorSource.read(b.resolve("weights.safetensors"));
        MapTensorSource act = MapTensorSource.read(b.resolve("activations.safetensors"));
        JsonObject aliases = aliases(b);
        List<Golden.Error> errors = new ArrayList<>();
        try (Binder p = Binder.load(weights, "CogVLM2")) {
            for (int i = 0; i < cfg.vision().numHiddenLayers(); i++) {
                String path = VisionTower.layerPath(i);
                INDArray out = new VisionTransformerLayer(p.at(path), cfg.vision()).forward(ref(act, aliases, path + ".in.0"), Trace.OFF);
                errors.add(Golden.compare(path + ".out (golden input)", out, ref(act, aliases, path + ".out")));
            }
            INDArray seq = new VisionConv(p.at(VisionTower.PATH).at("conv"), cfg.vision())
                    .forward(ref(act, aliases, "model.vision.transformer.out"), Trace.OFF);
            INDArray adapted = new VisionGlu(p.at(VisionTower.PATH).at("linear_proj"), cfg).forward(seq, Trace.OFF);
            errors.add(Golden.compare("model.vision.linear_proj.out (golden input)", adapted, ref(act, aliases, "model.vision.linear_proj.out")));
            long[] pos = act.raw("build_position_ids.out").data().asLong();
            for (int i = 0; i < cfg.numHiddenLayers(); i++) {
                String path = LlamaDecoder.layerPath(i);
                INDArray out = new DecoderLayer(p.at(path), cfg).forward(ref(act, aliases, path + ".in.0"), pos, Trace.OFF);
                errors.add(Golden.compare(path + ".out.0 (golden input)", out, ref(act, aliases, path + ".out.0")));
            }
        }
        assertThat(errors).hasSize(cfg.vision().numHiddenLayers() + 1 + cfg.numHiddenLayers());
        Golden.assertAll(errors, TOL, "fp32 CPU, one block, summation order only");
    }

    static INDArray ref(MapTensorSource act, JsonObject aliases, String name) {
        String stored = act.contains(name) ? name : aliases.get(name).getAsString();
        return act.raw(stored);
    }

    /** Every recorded float tensor that the bundle also holds (directly or through its alias list). */
    static List<Golden.Error> compareTrace(Trace trace, MapTensorSource act, JsonObject aliases) {
        List<Golden.Error> errors = new ArrayList<>();
        for (Map.Entry<String, INDArray> e : trace.recorded().entrySet()) {
            String name = e.getKey();
            String stored = act.contains(name) ? name
                    : aliases.has(name) ? aliases.get(name).getAsString() : null;
            if (stored == null || !act.contains(stored) || name.equals("build_position_ids.out")) continue;
            errors.add(Golden.compare(name, e.getValue(), act.raw(stored)));
        }
        return errors;
    }

    static JsonObject aliases(Path bundle) throws IOException {
        JsonObject m = JsonParser.parseString(Files.readString(bundle.resolve("manifest.json"))).getAsJsonObject();
        return m.has("aliases") ? m.getAsJsonObject("aliases") : new JsonObject();
    }

    static List<String> names(List<Golden.Error> errors) {
        return errors.stream().map(Golden.Error::name).toList();
    }
}
