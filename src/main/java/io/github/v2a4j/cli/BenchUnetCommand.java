package io.github.v2a4j.cli;

import io.github.v2a4j.bench.Machine;
import io.github.v2a4j.nn.Trace;
import io.github.v2a4j.synthetic.SyntheticSource;
import io.github.v2a4j.synthetic.SyntheticWeights;
import io.github.v2a4j.unet.Conditioning;
import io.github.v2a4j.unet.UNet;
import io.github.v2a4j.unet.UNetConfig;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.nd4j.linalg.api.ndarray.INDArray;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/**
 * {@code v2a bench unet}: one K4 UNet forward at real size (SD-1.5 widths, latent 4×64×148, 96 frames, 100 text
 * tokens) with synthetic weights of the real names and shapes (4.15 GB fp32), at batch 1 and batch 2.
 * Prints per-batch medians, GFLOP/s (analytic count, 2.33 TFLOP per batch-1 forward at the default size), whether
 * one batch-2 call beats two batch-1 calls (the CFG choice of the denoising loop), peak RSS (VmHWM) and the load
 * average. The PyTorch twin is reference-tests/bench/bench_unet.py.
 */
@Command(name = "unet", mixinStandardHelpOptions = true,
        description = "Benchmark one K4 UNet forward at real size with synthetic weights (batch 1 and 2).")
public final class BenchUnetCommand implements Callable<Integer> {

    @Option(names = "--height", description = "latent height (default ${DEFAULT-VALUE})")
    int height = 64;

    @Option(names = "--width", description = "latent width (default ${DEFAULT-VALUE})")
    int width = 148;

    @Option(names = "--frames", description = "video frames T (default ${DEFAULT-VALUE})")
    int frames = 96;

    @Option(names = "--tokens", description = "text tokens (default ${DEFAULT-VALUE})")
    int tokens = 100;

    @Option(names = "--batches", split = ",", description = "batch sizes (default ${DEFAULT-VALUE})")
    int[] batches = {1, 2};

    @Option(names = "--repeats", description = "timed forwards per batch size (default ${DEFAULT-VALUE})")
    int repeats = 3;

    @Option(names = "--warmup", description = "untimed forwards per batch size first (default ${DEFAULT-VALUE})")
    int warmup = 1;

    @Option(names = "--precision", paramLabel = "fp32|bf16", defaultValue = "fp32",
            description = "arithmetic of the products (default ${DEFAULT-VALUE})")
    String precision;

    @Option(names = "--seed", description = "weight/input seed (default ${DEFAULT-VALUE})")
    long seed = 0;

    public static void main(String[] args) {
        System.exit(new CommandLine(new BenchUnetCommand()).execute(args));
    }

    @Override
    public Integer call() {
        UNetConfig config = UNetConfig.k4();
        System.out.printf(Locale.ROOT, "load average at start: %s%n", Machine.loadAverage());
        long t0 = System.nanoTime();
        SyntheticSource weights = new SyntheticSource(UNet.parameterShapes(config), seed);
        UNet unet = UNet.load(config, weights, io.github.v2a4j.nn.Precision.parse(precision));
        long nParams = weights.parameterCount();
        System.out.printf(Locale.ROOT, "synthetic weights: %d tensors, %,d parameters (%.2f GB fp32) in %.1f s, RSS %.2f GB%n",
                weights.names().size(), nParams, nParams * 4 / 1e9, (System.nanoTime() - t0) / 1e9, Machine.memoryGb("VmRSS"));
        double flops1 = flops(config, height, width, frames, tokens);
        System.out.printf(Locale.ROOT, "latent 4x%dx%d, T=%d, %d text tokens: %.3f TFLOP per batch-1 forward, %s%n",
                height, width, frames, tokens, flops1 / 1e12, precision);

        double[] medians = new double[batches.length];
        for (int bi = 0; bi < batches.length; bi++) {
            int b = batches[bi];
            SyntheticWeights inputs = new SyntheticWeights(seed + b);
            INDArray sample = inputs.normal("sample", 1.0, b, config.inChannels(), height, width);
            INDArray text = inputs.normal("text", 1.0, b, tokens, config.textEmbedDim());
            INDArray video = inputs.normal("video", 1.0, b, frames, config.videoEmbedDim());
            List<Double> times = new ArrayList<>();
            for (int r = 0; r < warmup + repeats; r++) {
                long s = System.nanoTime();
                // fresh conditioning each call, as the reference recomputes text/video keys and values per call
                INDArray eps = unet.forward(sample, 981, new Conditioning(text, video), Trace.OFF);
                double sec = (System.nanoTime() - s) / 1e9;
                if (!Double.isFinite(eps.sumNumber().doubleValue())) throw new IllegalStateException("non-finite output");
                System.out.printf(Locale.ROOT, "  batch %d %s %d: %.3f s (RSS now %.2f GB)%n", b,
                        r < warmup ? "warmup" : "run", r < warmup ? r + 1 : r - warmup + 1, sec, Machine.memoryGb("VmRSS"));
                if (r >= warmup) times.add(sec);
            }
            double med = median(times);
            medians[bi] = med;
            System.out.printf(Locale.ROOT, "batch %d: median %.3f s over %d runs, %.1f GFLOP/s%n",
                    b, med, times.size(), flops1 * b / med / 1e9);
        }
        int i1 = indexOf(batches, 1), i2 = indexOf(batches, 2);
        if (i1 >= 0 && i2 >= 0) {
            System.out.printf(Locale.ROOT, "CFG: one batch-2 call %.3f s vs two batch-1 calls %.3f s -> %s is faster%n",
                    medians[i2], 2 * medians[i1], medians[i2] <= 2 * medians[i1] ? "batch 2" : "2 x batch 1");
        }
        System.out.printf(Locale.ROOT, "peak RSS (VmHWM) %.2f GB; load average at end: %s%n", Machine.memoryGb("VmHWM"),
                Machine.loadAverage());
        System.out.printf(Locale.ROOT, "RESULT java medians_s=%s tflop_b1=%.3f peak_rss_gb=%.2f%n",
                Arrays.toString(medians), flops1 / 1e12, Machine.memoryGb("VmHWM"));
        return 0;
    }

    /**
     * Multiply-adds ×2 of one batch-1 forward: convolutions, linears and the attention cores (QKᵀ and PV), the same
     * count as bench_unet.py; norms and elementwise ops are left out.
     */
    static double flops(UNetConfig c, int h, int w, int frames, int tokens) {
        int[] ch = c.blockOutChannels();
        int n = ch.length;
        long[] hw = new long[n];
        long[][] size = new long[n][];
        long sh = h, sw = w;
        for (int i = 0; i < n; i++) {
            size[i] = new long[]{sh, sw};
            hw[i] = sh * sw;
            sh = (sh + 1) / 2;
            sw = (sw + 1) / 2;
        }
        int layers = c.layersPerBlock();
        double f = conv(c.inChannels(), ch[0], 3, hw[0]);
        List<Integer> skips = new ArrayList<>(List.of(ch[0]));
        int prev = ch[0];
        for (int i = 0; i < n; i++) {
            boolean attn = c.downBlockTypes()[i].startsWith("CrossAttn");
            for (int j = 0; j < layers; j++) {
                f += resnet(j == 0 ? prev : ch[i], ch[i], hw[i]);
                if (attn) f += transformer(c, ch[i], hw[i], frames, tokens);
                skips.add(ch[i]);
            }
            if (i < n - 1) {
                f += conv(ch[i], ch[i], 3, hw[i + 1]);
                skips.add(ch[i]);
            }
            prev = ch[i];
        }
        f += 2 * resnet(ch[n - 1], ch[n - 1], hw[n - 1]) + transformer(c, ch[n - 1], hw[n - 1], frames, tokens);
        for (int i = 0; i < n; i++) {
            int lvl = n - 1 - i;
            int cout = ch[lvl];
            boolean attn = c.upBlockTypes()[i].startsWith("CrossAttn");
            for (int j = 0; j <= layers; j++) {
                int skip = skips.remove(skips.size() - 1);
                f += resnet((j == 0 ? prev : cout) + skip, cout, hw[lvl]);
                if (attn) f += transformer(c, cout, hw[lvl], frames, tokens);
            }
            if (i < n - 1) f += conv(cout, cout, 3, hw[lvl - 1]);
            prev = cout;
        }
        return f + conv(ch[0], c.outChannels(), 3, hw[0]);
    }

    private static double conv(long cin, long cout, int k, long hw) {
        return 2.0 * cin * cout * k * k * hw;
    }

    private static double lin(long in, long out, long rows) {
        return 2.0 * in * out * rows;
    }

    private static double resnet(long cin, long cout, long hw) {
        return conv(cin, cout, 3, hw) + conv(cout, cout, 3, hw) + (cin != cout ? lin(cin, cout, hw) : 0);
    }

    private static double transformer(UNetConfig cfg, long c, long hw, long frames, long tokens) {
        long x = cfg.crossAttentionDim(), e = cfg.videoEmbedDim(), t = cfg.textEmbedDim();
        double f = 2 * lin(c, c, hw);                                           // proj_in, proj_out
        f += 4 * lin(c, c, hw) + 4.0 * hw * hw * c;                             // self-attention
        f += 2 * lin(c, c, hw) + 2 * lin(x, c, tokens) + 4.0 * hw * tokens * c; // cross-attention
        f += lin(c, 8 * c, hw) + lin(4 * c, c, hw);                             // GEGLU feed-forward
        f += 2 * lin(c, c, hw) + 2 * lin(e, c, frames) + 4.0 * hw * frames * c; // video attention
        return f + lin(t, x, tokens);                                           // text projection
    }

    private static double median(List<Double> xs) {
        double[] a = xs.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
    }

    private static int indexOf(int[] a, int v) {
        for (int i = 0; i < a.length; i++) if (a[i] == v) return i;
        return -1;
    }
}
