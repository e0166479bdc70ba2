package io.github.v2a4j.cli;

import io.github.v2a4j.bench.CogVlmBench;
import io.github.v2a4j.bench.Machine;
import io.github.v2a4j.cogvlm.CogVlmConfig;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code v2a bench cogvlm}: CogVLM2-video blocks at real widths with random weights, and the extrapolation to one
 * full video pass (63 vision layers × T frames, adapter × T, 31 decoder layers × (66T+1) tokens). Matching PyTorch
 * script: reference-tests/bench/bench_cogvlm.py.
 */
@Command(name = "cogvlm", mixinStandardHelpOptions = true,
        description = {"Time one CogVLM2 vision layer, the adapter and one decoder layer at real widths (random weights),",
            "then extrapolate a full video pass. The machine may be shared: the load average is printed."})
public final class BenchCogvlmCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--frames", defaultValue = "8", description = "Frames per vision-layer / adapter call (default ${DEFAULT-VALUE}; the encoder runs 8 at a time).")
    int frames;

    @Option(names = "--tokens", defaultValue = "6337", description = "Decoder sequence length (default ${DEFAULT-VALUE} = BOS + 66x96).")
    int tokens;

    @Option(names = "--video-frames", defaultValue = "96", description = "T used for the extrapolation (default ${DEFAULT-VALUE}).")
    int videoFrames;

    @Option(names = "--warmup", defaultValue = "1")
    int warmup;

    @Option(names = "--repeats", defaultValue = "3")
    int repeats;

    @Option(names = "--only", split = ",", description = "Subset of: vision, adapter, decoder (default all).")
    List<String> only = new ArrayList<>();

    @Option(names = "--precision", paramLabel = "fp32|bf16", defaultValue = "fp32",
            description = "Arithmetic of the matrix products (default ${DEFAULT-VALUE}).")
    String precision;

    @Option(names = "--seed", defaultValue = "42")
    long seed;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        CogVlmConfig cfg = CogVlmConfig.real();
        out.printf("CogVLM2-video blocks, real widths, random fp32 weights; threads: OMP_NUM_THREADS=%s; load before: %s%n",
                System.getenv().getOrDefault("OMP_NUM_THREADS", "unset"), Machine.loadAverage());
        CogVlmBench.Result vision = null;
        CogVlmBench.Result adapter = null;
        CogVlmBench.Result decoder = null;
        out.flush();
        if (wants("vision")) vision = print(out, CogVlmBench.visionLayer(cfg, frames, warmup, repeats, seed, io.github.v2a4j.nn.Precision.parse(precision)));
        if (wants("adapter")) adapter = print(out, CogVlmBench.adapter(cfg, frames, warmup, repeats, seed, io.github.v2a4j.nn.Precision.parse(precision)));
        if (wants("decoder")) decoder = print(out, CogVlmBench.decoderLayer(cfg, tokens, warmup, repeats, seed, io.github.v2a4j.nn.Precision.parse(precision)));
        int t = videoFrames;
        double total = 0;
        out.printf("extrapolated video pass, T=%d:%n", t);
        if (vision != null) {
            double s = vision.medianMs() / 1000 / frames * t * cfg.vision().numHiddenLayers();
            total += s;
            out.printf("  vision tower   %d layers x %d frames   %8.1f s%n", cfg.vision().numHiddenLayers(), t, s);
        }
        if (adapter != null) {
            double s = adapter.medianMs() / 1000 / frames * t;
            total += s;
            out.printf("  adapter        x %d frames              %8.1f s%n", t, s);
        }
        if (decoder != null) {
            int used = cfg.numHiddenLayers() - 1;
            int len = cfg.tokensPerFrame() * t + 1;
            // scale the measured layer to L = 66T+1: dense part linear in L, attention quadratic
            double dense = denseShare(cfg, tokens);
            double scale = dense * len / tokens + (1 - dense) * Math.pow((double) len / tokens, 2);
            double s = decoder.medianMs() / 1000 * scale * used;
            total += s;
            out.printf("  decoder        %d layers x %d tokens   %8.1f s%n", used, len, s);
        }
        out.printf("  total (excl. patch embedding, weight conversion, I/O) %8.1f s = %.1f min per video pass%n", total, total / 60);
        out.printf("peak RSS %.2f GB; load after: %s%n", Machine.memoryGb("VmHWM"), Machine.loadAverage());
        return 0;
    }

    /** Share of the decoder layer's FLOPs that grows linearly with the sequence (the rest is attention, quadratic). */
    static double denseShare(CogVlmConfig cfg, int tokens) {
        double d = cfg.hiddenSize();
        double qkv = d + 2.0 * cfg.numKvHeads() * cfg.headDim();
        double dense = 2.0 * tokens * d * (qkv + d + 3.0 * cfg.intermediateSize());
        double attention = 4.0 * tokens * (double) tokens * d;
        return dense / (dense + attention);
    }

    private static CogVlmBench.Result print(PrintWriter out, CogVlmBench.Result r) {
        out.printf("%-20s %-28s median %9.1f ms  (runs %s)  %7.1f GFLOP  %6.1f GFLOP/s%n", r.block(), r.size(),
                r.medianMs(), runs(r.millis()), r.gflop(), r.gflops());
        out.flush();
        return r;
    }

    private boolean wants(String block) {
        return only.isEmpty() || only.contains(block);
    }

    private static String runs(double[] ms) {
        StringBuilder sb = new StringBuilder();
        for (double m : ms) sb.append(sb.length() == 0 ? "" : "/").append(String.format("%.0f", m));
        return sb.toString();
    }
}
