package io.github.v2a4j.synthetic;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.v2a4j.cogvlm.CogVlmConfig;
import io.github.v2a4j.cogvlm.ConversationInput;
import io.github.v2a4j.cogvlm.DecoderLayer;
import io.github.v2a4j.cogvlm.LlamaDecoder;
import io.github.v2a4j.cogvlm.VisionConv;
import io.github.v2a4j.cogvlm.VisionGlu;
import io.github.v2a4j.cogvlm.VisionTower;
import io.github.v2a4j.cogvlm.VisionTransformerLayer;
import io.github.v2a4j.io.MapSource;
import io.github.v2a4j.nn.Binder;
import io.github.v2a4j.nn.Trace;
import java.util.Locale;
import java.util.function.Function;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * {@link SyntheticWeights} at the real width keep CogVLM2's activations finite and bounded through all 63 vision
 * layers, the adapter and 31 decoder layers, each layer with its own weights (the names differ, so the values do):
 * one frame (257 tokens) through the vision tower, its 66 rows after BOS through the decoder. One layer's weights are
 * made and held at a time (the largest, a decoder layer, has 218 M parameters):
 * {@code mvn test -Pslow -Dtest=SyntheticScaleTest}.
 */
@Tag("slow")
class SyntheticScaleTest {

    static final long SEED = 0;

    /** Builds the module at {@code path} from synthetic weights of its own names, runs it, frees the weights. */
    static INDArray run(Function<Binder, Function<INDArray, INDArray>> module, INDArray x) {
        Binder layout = Binder.check(MapSource.empty(), "CogVLM2");
        module.apply(layout);
        try (SyntheticSource src = new SyntheticSource(layout.parameters(), SEED)) {
            Binder b = Binder.load(src, "CogVLM2");
            Function<INDArray, INDArray> f = module.apply(b);
            b.verify();
            return f.apply(x).dup();
        }
    }

    static String stats(INDArray x) {
        return String.format(Locale.ROOT, "std %.3f, max |x| %.2f", x.stdNumber().doubleValue(),
                x.amaxNumber().doubleValue());
    }

    @Test
    void activationsStayFiniteThroughEveryLayerAtRealWidth() {
        activationsStayFinite(CogVlmConfig.real());
    }

    static void activationsStayFinite(CogVlmConfig cfg) {
        CogVlmConfig.Vision v = cfg.vision();
        INDArray x = new SyntheticWeights(SEED).normal("patch embedding output", 1.0, 1, v.numPositions(), v.hiddenSize());
        for (int i = 0; i < v.numHiddenLayers(); i++) {
            String path = VisionTower.layerPath(i);
            x = run(b -> {
                VisionTransformerLayer layer = new VisionTransformerLayer(b.at(path), v);
                return in -> layer.forward(in, Trace.OFF);
            }, x);
            System.out.printf(Locale.ROOT, "vision layer %2d: %s%n", i + 1, stats(x));
            assertThat(x.amaxNumber().doubleValue()).as("vision layer " + (i + 1)).isFinite().isLessThan(1e4);
        }
        long d = cfg.hiddenSize();
        // the frame's rows as the decoder gets them: boi, the adapter's (grid/2)² rows, eoi
        INDArray features = run(b -> {
            VisionConv conv = new VisionConv(b.at(VisionTower.PATH).at("conv"), v);
            VisionGlu glu = new VisionGlu(b.at(VisionTower.PATH).at("linear_proj"), cfg);
            INDArray boi = b.at(VisionTower.PATH).get("boi", 1, 1, d);
            INDArray eoi = b.at(VisionTower.PATH).get("eoi", 1, 1, d);
            return in -> Nd4j.concat(1, boi, glu.forward(conv.forward(in, Trace.OFF), Trace.OFF), eoi);
        }, x);
        System.out.printf(Locale.ROOT, "adapter: %s%n", stats(features));
        int rows = cfg.tokensPerFrame();
        ConversationInput input = ConversationInput.base(cfg.bosTokenId(), cfg.padTokenId(), rows, new int[0]);
        INDArray h = Nd4j.zeros(features.dataType(), 1, rows + 1, d);
        h.get(NDArrayIndex.point(0), NDArrayIndex.point(0), NDArrayIndex.all())
                .assign(new SyntheticWeights(SEED).normal("model.embed_tokens.weight row", 0.02, d));
        h.get(NDArrayIndex.point(0), NDArrayIndex.interval(1, rows + 1), NDArrayIndex.all())
                .assign(features.reshape(rows, d));
        long[] positions = input.positionIds();
        for (int i = 0; i < cfg.numHiddenLayers() - 1; i++) {
            String path = LlamaDecoder.layerPath(i);
            h = run(b -> {
                DecoderLayer layer = new DecoderLayer(b.at(path), cfg);
                return in -> layer.forward(in, positions, Trace.OFF);
            }, h);
            System.out.printf(Locale.ROOT, "decoder layer %2d: %s%n", i + 1, stats(h));
            assertThat(h.amaxNumber().doubleValue()).as("decoder layer " + (i + 1)).isFinite().isLessThan(1e4);
        }
    }
}
