package io.github.v2a4j.cogvlm;

import io.github.v2a4j.nn.Trace;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Timings of the CogVLM2 blocks at real widths with random in-memory weights (the {@code v2a bench cogvlm} workload):
 * one vision layer over F frames × 257 tokens, the adapter (conv 2×2 + GLU) over F frames, one decoder layer over L
 * tokens with the video pass's positions. The same block classes as the encoder run, with a recording-free trace.
 * FLOP counts are 2×MAC of what the code executes.
 */
public final class CogVlmBench {
    private CogVlmBench() {}

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
    public static Result visionLayer(CogVlmConfig cfg, int frames, int warmup, int repeats, long seed) {
        CogVlmConfig.Vision v = cfg.vision();
        String path = VisionTower.layerPath(0);
        Params check = Params.check(new RandomTensorSource(Map.of(), seed));
        new VisionTransformerLayer(check, path, v);
        try (RandomTensorSource src = new RandomTensorSource(check.requested(), seed); Params p = Params.load(src, "")) {
            VisionTransformerLayer layer = new VisionTransformerLayer(p, path, v);
            int tokens = v.numPositions();
            INDArray x = Nd4j.rand(DataType.FLOAT, frames, tokens, v.hiddenSize()).subi(0.5).muli(3.4);
            double[] ms = time(warmup, repeats, () -> Release.free(layer.forward(x, Trace.OFF)));
            return new Result("vision layer", frames + " frames x " + tokens + " tokens", ms, visionLayerGflop(v, tokens) * frames);
        }
    }

    /** conv 2×2 stride 2 + GLU adapter on {@code frames} frames. */
    public static Result adapter(CogVlmConfig cfg, int frames, int warmup, int repeats, long seed) {
        CogVlmConfig.Vision v = cfg.vision();
        Params check = Params.check(new RandomTensorSource(Map.of(), seed));
        Params at = check.at(VisionTower.PATH);
        at.get("conv.weight", v.hiddenSize(), v.hiddenSize(), 2, 2);
        at.get("conv.bias", v.hiddenSize());
        new VisionGlu(check, VisionTower.PATH + ".linear_proj", cfg);
        try (RandomTensorSource src = new RandomTensorSource(check.requested(), seed);
                Params root = Params.load(src, "")) {
            Params p = root.at(VisionTower.PATH);
            VisionGlu glu = new VisionGlu(root, VisionTower.PATH + ".linear_proj", cfg);
            INDArray x = Nd4j.rand(DataType.FLOAT, frames, v.numPositions(), v.hiddenSize()).subi(0.5).muli(3.4);
            double[] ms = time(warmup, repeats, () -> {
                INDArray seq = VisionTower.mergePatches(x, p, v, Trace.OFF);
                Release.free(glu.forward(seq, Trace.OFF), seq);
            });
            return new Result("adapter (conv+GLU)", frames + " frames", ms, adapterGflop(cfg) * frames);
        }
    }

    /** One decoder layer on the video pass sequence of {@code tokens} tokens (BOS + tokens−1 vision slots). */
    public static Result decoderLayer(CogVlmConfig cfg, int tokens, int warmup, int repeats, long seed) {
        String path = LlamaDecoder.layerPath(0);
        Params check = Params.check(new RandomTensorSource(Map.of(), seed));
        new DecoderLayer(check, path, cfg);
        try (RandomTensorSource src = new RandomTensorSource(check.requested(), seed); Params p = Params.load(src, "")) {
            DecoderLayer layer = new DecoderLayer(p, path, cfg);
            long[] pos = ConversationInput.base(cfg.bosTokenId(), cfg.padTokenId(), tokens - 1, new int[0]).positionIds();
            INDArray x = Nd4j.rand(DataType.FLOAT, 1, tokens, cfg.hiddenSize()).subi(0.5).muli(3.4);
            double[] ms = time(warmup, repeats, () -> Release.free(layer.forward(x, pos, Trace.OFF)));
            return new Result("decoder layer", tokens + " tokens", ms, decoderLayerGflop(cfg, tokens));
        }
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

    /** Dense part plus attention as executed: the causal half is masked, not skipped, so full Lq·Lk is counted. */
    static double decoderLayerGflop(CogVlmConfig cfg, int tokens) {
        double d = cfg.hiddenSize();
        double qkv = d + 2.0 * cfg.numKvHeads() * cfg.headDim();
        double dense = 2.0 * tokens * d * (qkv + d + 3.0 * cfg.intermediateSize());
        double attention = 2.0 * 2 * tokens * (double) tokens * d;
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

    /** Peak resident set of this process (VmHWM), in MB; -1 where /proc is not available. */
    public static long peakRssMb() {
        return procStatus("VmHWM:");
    }

    static long procStatus(String key) {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (l.startsWith(key)) return Long.parseLong(l.replaceAll("\\D+", "")) / 1024;
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }

    /** {@code /proc/loadavg} (1, 5, 15 minutes), or "n/a". */
    public static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException e) {
            return "n/a";
        }
    }

}
