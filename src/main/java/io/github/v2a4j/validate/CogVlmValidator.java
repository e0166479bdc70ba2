package io.github.v2a4j.validate;

import io.github.v2a4j.cogvlm.VideoPreprocessor;
import io.github.v2a4j.cogvlm.CogVlmEncoder;
import io.github.v2a4j.cogvlm.CogVlmConfig;
import io.github.v2a4j.golden.Bf16Reference;
import io.github.v2a4j.golden.Comparison;
import io.github.v2a4j.nn.Precision;
import io.github.v2a4j.pipeline.Defaults;
import io.github.v2a4j.golden.ComparisonReport;
import io.github.v2a4j.golden.GoldenBundle;
import io.github.v2a4j.golden.Tolerance;
import io.github.v2a4j.golden.Validator;
import io.github.v2a4j.io.Safetensors;
import io.github.v2a4j.nn.Trace;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@code v2a validate} for component {@code cogvlm2-video}: a bundle of K4's {@code extract_video_embedding} (io
 * {@code video} → {@code video_embedding}) or {@code extract_text_embedding} (io {@code text_ids} →
 * {@code text_embedding}). The whole pass runs from the bundle's inputs with a recording trace; every module the
 * bundle holds is compared (vision layers, adapter, decoder layers, RoPE'd q/k), position ids exactly.
 */
public final class CogVlmValidator implements Validator {

    static final Tolerance POSITIONS = Tolerance.exact("integer position ids (build_position_ids)");
    static final Tolerance PREPROCESSED = new Tolerance(1e-6,
            "bilinear scaling: same indices/weights as ATen, taps combined in another order (last-bit differences)");

    @Override
    public String component() {
        return "cogvlm2-video";
    }

    @Override
    public ComparisonReport validate(GoldenBundle bundle) {
        return validate(bundle, Precision.FP32);
    }

    @Override
    public ComparisonReport validate(GoldenBundle bundle, Precision precision) {
        CogVlmConfig cfg = CogVlmConfig.parse(bundle.config().toString());
        CogVlmEncoder enc = new CogVlmEncoder(cfg, bundle.weights(), null, "golden", Defaults.FRAME_CHUNK, precision);
        enc.verifyCheckpoint();
        Safetensors io = bundle.io();
        Trace trace = Trace.all();
        Map<String, INDArray> outputs;
        if (io.contains("video")) {
            long[] s = io.info("video").shape();
            if (s.length != 4 || s[0] != 3) throw new IllegalArgumentException(bundle.dir() + ": io 'video' must be (3, T, H, W), is " + io.info("video").shapeString());
            INDArray emb = enc.videoEmbedding(io.loadBytes("video"), (int) s[1], (int) s[2], (int) s[3], trace);
            outputs = Map.of("video_embedding", emb);
        } else if (io.contains("text_ids")) {
            outputs = Map.of("text_embedding", enc.textEmbedding(io.loadInt("text_ids"), trace));
        } else {
            throw new IllegalArgumentException(bundle.dir() + ": io.safetensors has neither 'video' nor 'text_ids'");
        }
        String last = "model.layers." + (cfg.numHiddenLayers() - 1) + ".";
        java.util.function.Function<String, Tolerance> tolerance = CogVlmValidator::tolerance;
        if (precision == Precision.BF16) {
            Map<String, Tolerance> bf16 = Bf16Reference.read(bundle.dir());
            // integer positions and the preprocessing do not depend on the precision of the products
            tolerance = name -> name.equals("build_position_ids.out") || name.equals("model.vision.in.0")
                    || name.endsWith(".frames") ? tolerance(name) : bf16.getOrDefault(name, Tolerance.FP32);
        }
        ComparisonReport report = Comparison.of(bundle).tolerance(tolerance)
                .notProduced(UNetValidator.MODULE_INPUTS, "*.in", "*.in.*")
                .notProduced("the last decoder layer, the final norm and the model's output tuple: K4 reads "
                        + "hidden_states[-2], the output of the layer before, which is compared", last + "*",
                        "model.norm.*", "model.out.*")
                .notProduced("key/value caches (use_cache) of each layer: v2a4j keeps none",
                        "model.layers.*.out.1.*", "model.layers.*.self_attn.out.2.*")
                .notProduced("the additive causal mask: v2a4j applies causality inside attention",
                        "model._prepare_decoder_attention_mask.out")
                .compare(trace.recorded(), outputs);
        return precision == Precision.BF16 ? Bf16Reference.judge(report, bundle.dir()) : report;
    }

    static Tolerance tolerance(String name) {
        if (name.equals("build_position_ids.out")) return POSITIONS;
        if (name.equals("model.vision.in.0") || name.endsWith(".frames")) return PREPROCESSED;
        return Tolerance.FP32;
    }

    /** {@code v2a validate} for component {@code cogvlm2.preprocess}: the video transform alone. */
    public static final class Preprocess implements Validator {
        @Override
        public String component() {
            return "cogvlm2.preprocess";
        }

        @Override
        public ComparisonReport validate(GoldenBundle bundle) {
            Safetensors io = bundle.io();
            VideoPreprocessor pre = new VideoPreprocessor(224);
            Map<String, INDArray> outputs = new java.util.LinkedHashMap<>();
            for (String name : io.names()) {
                if (!name.endsWith(".video")) continue;
                long[] s = io.info(name).shape();
                String c = name.substring(0, name.length() - ".video".length());
                outputs.put(c + ".frames", pre.preprocess(io.loadBytes(name), (int) s[1], (int) s[2], (int) s[3]));
            }
            if (outputs.isEmpty()) throw new IllegalArgumentException(bundle.dir() + ": io.safetensors has no '<case>.video'");
            return Comparison.of(bundle).tolerance(n -> PREPROCESSED)
                    .notProduced("the normalised clip before scaling: v2a4j normalises and scales in one pass, "
                            + "whose output is compared", "*.preprocess.normalize_video.out")
                    .compare(Map.of(), outputs);
        }
    }
}
