package io.github.v2a4j.cogvlm;

import io.github.v2a4j.nn.Buffers;
import io.github.v2a4j.io.TensorSource;
import io.github.v2a4j.nn.Binder;
import io.github.v2a4j.nn.Precision;
import io.github.v2a4j.nn.Trace;
import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The language model part of {@code CogVLMVideoModel} ({@code model}) as K4 uses it: token embeddings, vision rows
 * overwritten by the vision features ({@code index_put} on type-1 rows, in order), position ids from the token types,
 * then decoder layers 0..n−2 only. K4 reads {@code hidden_states[-2]}, the raw output of layer n−2, so the last
 * layer, the final {@code norm} and {@code lm_head} are never run (or loaded).
 *
 * <p>Layer streaming as in {@link VisionTower}: one layer's weights resident at a time (872 MB fp32 at real size),
 * released before the next; the sequence (6337 tokens for 96 frames) runs through a layer in one go.
 */
public final class LlamaDecoder {

    public static final String PATH = "model";

    private final CogVlmConfig cfg;
    private final TensorSource source;
    private final Precision precision;

    public LlamaDecoder(CogVlmConfig cfg, TensorSource source) {
        this(cfg, source, Precision.FP32);
    }

    public LlamaDecoder(CogVlmConfig cfg, TensorSource source, Precision precision) {
        this.cfg = cfg;
        this.source = source;
        this.precision = precision;
    }

    public static String layerPath(int i) {
        return PATH + ".layers." + i;
    }

    /** Layers that K4's {@code hidden_states[-2]} depends on. */
    int layersUsed() {
        return cfg.numHiddenLayers() - 1;
    }

    /**
     * Asks for every parameter used (the token table's rows are read straight from the checkpoint, so it is only
     * declared) and marks the deliberately unused ones (last layer, norm, lm_head).
     */
    static void declare(Binder root, CogVlmConfig cfg) {
        root.declare(TokenEmbedding.NAME, cfg.vocabSize(), cfg.hiddenSize());
        int n = cfg.numHiddenLayers();
        for (int i = 0; i < n - 1; i++) new DecoderLayer(root.at(layerPath(i)), cfg);
        Binder unused = root.at(layerPath(n - 1));
        for (String t : new String[] {"input_layernorm.weight", "post_attention_layernorm.weight",
                "self_attn.language_expert_query_key_value.weight", "self_attn.language_expert_dense.weight",
                "self_attn.rotary_emb.inv_freq", "mlp.language_mlp.gate_proj.weight", "mlp.language_mlp.up_proj.weight",
                "mlp.language_mlp.down_proj.weight"}) {
            unused.ignore(t);
        }
        root.ignore("model.norm.weight");
        root.ignore("lm_head.weight");
    }

    /**
     * {@code hidden_states[-2]} of the sequence {@code input}: {@code [L, hidden]}. {@code visionFeatures} are the
     * {@code [rows, hidden]} rows for the type-1 tokens (null for a text pass).
     */
    public INDArray hiddenStates(ConversationInput input, INDArray visionFeatures, Trace trace) {
        return hiddenStates(input, visionFeatures, trace, Progress.counter(Progress.NONE, layersUsed()));
    }

    INDArray hiddenStates(ConversationInput input, INDArray visionFeatures, Trace trace, Progress.Counter progress) {
        int length = input.length();
        long d = cfg.hiddenSize();
        INDArray x = TokenEmbedding.rows(source, input.inputIds(), cfg.vocabSize(), (int) d);
        trace.record(PATH + ".embed_tokens.out", x.reshape(1, length, d));
        int[] visionRows = input.rowsOfType(ConversationInput.VISION_TOKEN_TYPE);
        if (visionRows.length > 0) {
            if (visionFeatures == null || visionFeatures.size(0) != visionRows.length) {
                throw new IllegalArgumentException("sequence has " + visionRows.length + " vision slots but "
                        + (visionFeatures == null ? "no" : String.valueOf(visionFeatures.size(0))) + " vision feature rows were given");
            }
            for (int r = 0; r < visionRows.length; r++) x.getRow(visionRows[r]).assign(visionFeatures.getRow(r));
        }
        long[] positions = input.positionIds();
        trace.record("build_position_ids.out", Nd4j.createFromArray(positions).reshape(1, length));
        x = x.reshape('c', 1, length, d);
        trace.record(layerPath(0) + ".in.0", x);
        return run(List.of(x), List.of(positions), trace, progress).get(0).reshape(length, d);
    }

    /**
     * {@code hidden_states[-2]} of several text-only sequences, each layer's weights loaded once for all of them:
     * K4 encodes the prompt and the negative prompt with the same weights, and at real size a text pass costs
     * mostly the bf16 → fp32 conversion of 31 layers, not the few tokens' compute. Each result equals
     * {@link #hiddenStates} of that sequence alone (sequences are not padded or mixed).
     */
    public List<INDArray> textHiddenStates(List<ConversationInput> inputs, Progress.Counter progress) {
        long d = cfg.hiddenSize();
        List<INDArray> xs = new ArrayList<>();
        List<long[]> positions = new ArrayList<>();
        for (ConversationInput in : inputs) {
            if (in.rowsOfType(ConversationInput.VISION_TOKEN_TYPE).length > 0) {
                throw new IllegalArgumentException("textHiddenStates takes text-only sequences");
            }
            xs.add(TokenEmbedding.rows(source, in.inputIds(), cfg.vocabSize(), (int) d).reshape('c', 1, in.length(), d));
            positions.add(in.positionIds());
        }
        List<INDArray> out = run(xs, positions, Trace.OFF, progress);
        out.replaceAll(x -> x.reshape(x.size(1), d));
        return out;
    }

    /** Layers 0..n−2 over every sequence of {@code xs}; one layer's weights resident at a time. */
    private List<INDArray> run(List<INDArray> xs, List<long[]> positions, Trace trace, Progress.Counter progress) {
        List<INDArray> cur = new ArrayList<>(xs);
        VisionTower.prefetch(source, layerPath(0));
        for (int i = 0; i < layersUsed(); i++) {
            // the next layer's weights are read from disk while this one computes
            if (i + 1 < layersUsed()) VisionTower.prefetch(source, layerPath(i + 1));
            try (Binder b = Binder.load(source, CogVlmEncoder.COMPONENT, precision)) {
                DecoderLayer layer = new DecoderLayer(b.at(layerPath(i)), cfg);
                b.verifyRequested();
                for (int j = 0; j < cur.size(); j++) {
                    INDArray next = layer.forward(cur.get(j), positions.get(j), trace);
                    Buffers.release(cur.get(j));
                    cur.set(j, next);
                }
            }
            VisionTower.releaseMappings(i);
            progress.tick("decoder layer " + (i + 1) + "/" + layersUsed());
        }
        return cur;
    }
}
