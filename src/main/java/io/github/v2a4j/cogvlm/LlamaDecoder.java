package io.github.v2a4j.cogvlm;

import io.github.v2a4j.io.TensorSource;
import io.github.v2a4j.nn.Trace;
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

    public LlamaDecoder(CogVlmConfig cfg, TensorSource source) {
        this.cfg = cfg;
        this.source = source;
    }

    static String layerPath(int i) {
        return PATH + ".layers." + i;
    }

    /** Layers that K4's {@code hidden_states[-2]} depends on. */
    int layersUsed() {
        return cfg.numHiddenLayers() - 1;
    }

    /** Declares every parameter used, and marks the deliberately unused ones (last layer, norm, lm_head). */
    static void declare(Params check, CogVlmConfig cfg) {
        check.get(TokenEmbedding.NAME, cfg.vocabSize(), cfg.hiddenSize());
        int n = cfg.numHiddenLayers();
        for (int i = 0; i < n - 1; i++) new DecoderLayer(check, layerPath(i), cfg);
        Params unused = check.at(layerPath(n - 1));
        for (String t : new String[] {"input_layernorm.weight", "post_attention_layernorm.weight",
                "self_attn.language_expert_query_key_value.weight", "self_attn.language_expert_dense.weight",
                "self_attn.rotary_emb.inv_freq", "mlp.language_mlp.gate_proj.weight", "mlp.language_mlp.up_proj.weight",
                "mlp.language_mlp.down_proj.weight"}) {
            unused.ignore(t);
        }
        check.ignore("model.norm.weight");
        check.ignore("lm_head.weight");
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
        for (int i = 0; i < layersUsed(); i++) {
            try (Params p = Params.load(source, "")) {
                INDArray next = new DecoderLayer(p, layerPath(i), cfg).forward(x, positions, trace);
                Release.free(x);
                x = next;
            }
            progress.tick();
        }
        return x.reshape(length, d);
    }
}
