package io.github.v2a4j.bench;

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
import io.github.v2a4j.nn.Precision;
import io.github.v2a4j.nn.Trace;
import io.github.v2a4j.synthetic.SyntheticSource;
import io.github.v2a4j.synthetic.SyntheticWeights;
import java.util.Arrays;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Timings of the CogVLM2 blocks at real widths with synthetic in-memory weights (the {@code v2a bench cogvlm} workload):
 * one vision layer over F frames × 257 tokens, the adapter (conv 2×2 + GLU) over F frames, one decoder layer over L
 * tokens with the video pass's positions. The same block classes as the encoder run, with a recording-free trace.
 * FLOP counts are 2×MAC of what the code executes.
 */
public final class CogVlmBench {
    private CogVlmBench() {}

    private static final String COMPONENT = "CogVLM2";

    public record Result(String block, String size, double[] millis, double gflop) {
        public double medianMs() {
            double[] s = millis.clone();
            Arrays.sort(s);
            return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
        }

        public double gflops() {
            return gflop / (medianMs() / 1000.0);
        }
    }

    /** One EVA2-CLIP layer on {@code frames × 257} tokens. */
    public static Result visionLayer(CogVlmConfig cfg, int frames, int warmup, int repeats, long seed,
                                     Precision precision) {
        CogVlmConfig.Vision v = cfg.vision();
        String path = VisionTower.layerPath(0);
        Binder layout = Binder.check(MapSource.empty(), COMPONENT);
        new VisionTransformerLayer(layout.at(path), v);
        try (SyntheticSource src = new SyntheticSource(layout.parameters(), seed)) {
            Binder b = Binder.load(src, COMPONENT, precision);
            VisionTransformerLayer layer = new VisionTransformerLayer(b.at(path), v);
            b.verify();
            int tokens = v.numPositions();
            INDArray x = input(seed, frames, tokens, v.hiddenSize());
            double[] ms = time(warmup, repeats, () -> layer.forward(x, Trace.OFF).close());
            return new Result("vision layer", frames + " frames x " + tokens + " tokens", ms, visionLayerGflop(v, tokens) * frames);
        }
    }

    /** conv 2×2 stride 2 + GLU adapter on {@code frames} frames. */
    public static Result adapter(CogVlmConfig cfg, int frames, int warmup, int repeats, long seed,
                                 Precision precision) {
        CogVlmConfig.Vision v = cfg.vision();
        Binder layout = Binder.check(MapSource.empty(), COMPONENT);
        new VisionConv(layout.at(VisionTower.PATH).at("conv"), v);
        new VisionGlu(layout.at(VisionTower.PATH).at("linear_proj"), cfg);
        try (SyntheticSource src = new SyntheticSource(layout.parameters(), seed)) {
            Binder b = Binder.load(src, COMPONENT, precision);
            VisionConv conv = new VisionConv(b.at(VisionTower.PATH).at("conv"), v);
            VisionGlu glu = new VisionGlu(b.at(VisionTower.PATH).at("linear_proj"), cfg);
            b.verify();
            INDArray x = input(seed, frames, v.numPositions(), v.hiddenSize());
            double[] ms = time(warmup, repeats, () -> {
                INDArray seq = conv.forward(x, Trace.OFF);
                glu.forward(seq, Trace.OFF).close();
                seq.close();
            });
            return new Result("adapter (conv+GLU)", frames + " frames", ms, adapterGflop(cfg) * frames);
        }
    }

    /** One decoder layer on the video pass sequence of {@code tokens} tokens (BOS + tokens−1 vision slots). */
    public static Result decoderLayer(CogVlmConfig cfg, int tokens, int warmup, int repeats, long seed,
                                      Precision precision) {
        String path = LlamaDecoder.layerPath(0);
        Binder layout = Binder.check(MapSource.empty(), COMPONENT);
        new DecoderLayer(layout.at(path), cfg);
        try (SyntheticSource src = new SyntheticSource(layout.parameters(), seed)) {
            Binder b = Binder.load(src, COMPONENT, precision);
            DecoderLayer layer = new DecoderLayer(b.at(path), cfg);
            b.verify();
            long[] pos = ConversationInput.base(cfg.bosTokenId(), cfg.padTokenId(), tokens - 1, new int[0]).positionIds();
            INDArray x = input(seed, 1, tokens, cfg.hiddenSize());
            double[] ms = time(warmup, repeats, () -> layer.forward(x, pos, Trace.OFF).close());
            return new Result("decoder layer", tokens + " tokens", ms, decoderLayerGflop(cfg, tokens));
        }
    }

    /** Activations of unit scale, deterministic like the weights. */
    private static INDArray input(long seed, long... shape) {
        return new SyntheticWeights(seed).normal("input", 1.0, shape);
    }

    static double visionLayerGflop(CogVlmConfig.Vision v, int tokens) {
        double d = v.hiddenSize();
        double dense = 2.0 * tokens * d * (3 * d + d + 2 * v.intermediateSize());
        double attention = 2.0 * 2 * tokens * (double) tokens * d;
        return (dense + attention) / 1e9;
    }

    static double adapterGflop(CogVlmConfig cfg) {
        double c = cfg.vision().hiddenSize();
        int m = cfg.tokensPerFrame() - 2;
        double conv = 2.0 * m * c * c * 4;
        double glu = 2.0 * m * (c * cfg.hiddenSize() + 3.0 * cfg.hiddenSize() * cfg.intermediateSize());
        return (conv + glu) / 1e9;
    }

    /**
     * Dense part plus the causal attention's useful work: query i attends to i + 1 keys, so QKᵀ and P·V count
     * L(L+1)/2 query-key pairs (the count reference-tests/bench/flops.py uses for PyTorch too).
     */
    static double decoderLayerGflop(CogVlmConfig cfg, int tokens) {
        double d = cfg.hiddenSize();
        double qkv = d + 2.0 * cfg.numKvHeads() * cfg.headDim();
        double dense = 2.0 * tokens * d * (qkv + d + 3.0 * cfg.intermediateSize());
        double attention = 2.0 * 2 * (tokens * (tokens + 1.0) / 2) * d;
        return (dense + attention) / 1e9;
    }

    private static double[] time(int warmup, int repeats, Runnable r) {
        for (int i = 0; i < warmup; i++) r.run();
        double[] ms = new double[repeats];
        for (int i = 0; i < repeats; i++) {
            long t0 = System.nanoTime();
            r.run();
            ms[i] = (System.nanoTime() - t0) / 1e6;
        }
        return ms;
    }

}
