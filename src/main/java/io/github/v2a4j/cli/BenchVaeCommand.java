package io.github.v2a4j.cli;

import io.github.v2a4j.bench.Machine;
import io.github.v2a4j.nn.Trace;
import io.github.v2a4j.synthetic.SyntheticSource;
import io.github.v2a4j.synthetic.SyntheticWeights;
import io.github.v2a4j.vae.VaeConfig;
import io.github.v2a4j.vae.VaeDecoder;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.Callable;
import org.nd4j.linalg.api.ndarray.INDArray;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/**
 * {@code v2a bench vae}: the SD-1.x VAE decoder at real size with synthetic weights (no checkpoint needed),
 * latent 4×64×148 → image 3×512×1184 by default. Prints each run, the median, GFLOP/s over the analytic FLOP count,
 * and the peak RSS (VmHWM). The PyTorch twin is reference-tests/bench/bench_vae.py.
 */
@Command(name = "vae", mixinStandardHelpOptions = true,
        description = "Benchmark the VAE decoder (SD-1.x shape, synthetic weights) at real size.")
public final class BenchVaeCommand implements Callable<Integer> {

    @Option(names = "--repeats", defaultValue = "3", description = "timed runs (default ${DEFAULT-VALUE})")
    int repeats;

    @Option(names = "--warmup", defaultValue = "1", description = "untimed runs first (default ${DEFAULT-VALUE})")
    int warmup;

    @Option(names = "--latent-height", defaultValue = "64", description = "latent height (default ${DEFAULT-VALUE})")
    int latentHeight;

    @Option(names = "--latent-width", defaultValue = "148", description = "latent width (default ${DEFAULT-VALUE}; 148 = 12 s clip)")
    int latentWidth;

    @Option(names = "--seed", defaultValue = "0", description = "weights and latent seed (default ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--precision", paramLabel = "fp32|bf16", defaultValue = "fp32",
            description = "arithmetic of the convolutions and products (default ${DEFAULT-VALUE}; K4 decodes in fp16, "
                    + "bf16 is as far from fp32 as the original code's own bf16 decode)")
    String precision;

    @Override
    public Integer call() {
        VaeConfig config = VaeConfig.sd1();
        long t0 = System.nanoTime();
        VaeDecoder vae = new VaeDecoder(config, new SyntheticSource(VaeDecoder.parameterShapes(config), seed),
                io.github.v2a4j.nn.Precision.parse(precision));
        INDArray latents = new SyntheticWeights(seed).normal("latents", 1.0,
                1, config.latentChannels(), latentHeight, latentWidth);
        double flop = decoderFlops(config, latentHeight, latentWidth);
        System.out.printf("VAE decoder bench (%s): latent %dx%dx%d -> image 3x%dx%d, %.3f TFLOP per decode, "
                        + "weights ready in %.1f s, RSS %.2f GB, OMP_NUM_THREADS=%s, MALLOC_MMAP_THRESHOLD_=%s, load %s%n",
                precision, config.latentChannels(), latentHeight, latentWidth, latentHeight * config.scaleFactor(),
                latentWidth * config.scaleFactor(), flop / 1e12, (System.nanoTime() - t0) / 1e9,
                Machine.memoryGb("VmRSS"), System.getenv("OMP_NUM_THREADS"), System.getenv("MALLOC_MMAP_THRESHOLD_"),
                Machine.loadAverage());

        List<Double> times = new ArrayList<>();
        for (int i = 0; i < warmup + repeats; i++) {
            long start = System.nanoTime();
            INDArray image = vae.decode(latents, Trace.OFF);
            double s = (System.nanoTime() - start) / 1e9;
            double checksum = image.sumNumber().doubleValue();
            image.close();
            boolean timed = i >= warmup;
            if (timed) times.add(s);
            System.out.printf("  run %d%s: %.2f s (%.1f GFLOP/s), checksum %.6e, peak RSS %.2f GB%n", i + 1,
                    timed ? "" : " (warm-up)", s, flop / s / 1e9, checksum, Machine.memoryGb("VmHWM"));
        }
        if (times.isEmpty()) return 0;
        Collections.sort(times);
        double median = times.size() % 2 == 1 ? times.get(times.size() / 2)
                : (times.get(times.size() / 2 - 1) + times.get(times.size() / 2)) / 2;
        System.out.printf("median %.2f s over %d runs (min %.2f, max %.2f), %.1f GFLOP/s, peak RSS (VmHWM) %.2f GB, "
                        + "load %s%n", median, times.size(), times.get(0), times.get(times.size() - 1),
                flop / median / 1e9, Machine.memoryGb("VmHWM"), Machine.loadAverage());
        return 0;
    }

    /** Multiply-adds ×2 of every convolution and the mid-block attention (norms and activations not counted). */
    static double decoderFlops(VaeConfig c, int h, int w) {
        int[] ch = c.blockOutChannels();
        int top = ch[ch.length - 1];
        double hw = (double) h * w;
        double flop = 0;
        if (c.usePostQuantConv()) flop += conv(c.latentChannels(), c.latentChannels(), 1, hw);
        flop += conv(c.latentChannels(), top, 3, hw);
        flop += 2 * resnet(top, top, hw);
        if (c.midBlockAddAttention()) flop += 4 * 2 * hw * top * top + 2 * 2 * hw * hw * top;
        int prev = top;
        for (int i = 0; i < ch.length; i++) {
            int out = ch[ch.length - 1 - i];
            for (int j = 0; j <= c.layersPerBlock(); j++) flop += resnet(j == 0 ? prev : out, out, hw);
            if (i < ch.length - 1) {
                hw *= 4;
                flop += conv(out, out, 3, hw);
            }
            prev = out;
        }
        return flop + conv(ch[0], c.outChannels(), 3, hw);
    }

    private static double resnet(int cin, int cout, double hw) {
        return conv(cin, cout, 3, hw) + conv(cout, cout, 3, hw) + (cin != cout ? conv(cin, cout, 1, hw) : 0);
    }

    private static double conv(int cin, int cout, int k, double hw) {
        return 2.0 * cin * cout * k * k * hw;
    }

    /** Standalone entry point until the command is registered in {@code v2a bench}. */
    public static void main(String[] args) {
        System.exit(new CommandLine(new BenchVaeCommand()).execute(args));
    }
}
