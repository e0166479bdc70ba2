package io.github.v2a4j.cli;

import io.github.v2a4j.audio.GriffinLim;
import io.github.v2a4j.audio.InverseMelScale;
import io.github.v2a4j.audio.SpectrogramParams;
import io.github.v2a4j.bench.Machine;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code v2a bench audio}: inverse mel + Griffin-Lim (riffusion parameters) on a 512×W mel spectrogram (W = 1184:
 * 12 s), N times; prints each run, the median, peak RSS and the load average (the machine may be shared).
 * The PyTorch twin is reference-tests/bench/bench_audio.py; run_audio_bench.sh runs both.
 */
@Command(name = "audio", mixinStandardHelpOptions = true,
        description = "Benchmark image->audio: inverse mel + Griffin-Lim at real size (512 mels x 1184 frames).")
public final class BenchAudioCommand implements Callable<Integer> {

    @Option(names = "--repeats", defaultValue = "3", description = "timed runs (default ${DEFAULT-VALUE})")
    int repeats;

    @Option(names = "--warmup", defaultValue = "1", description = "untimed runs first (default ${DEFAULT-VALUE})")
    int warmup;

    @Option(names = "--frames", defaultValue = "1184", description = "spectrogram width (default ${DEFAULT-VALUE} = 12 s)")
    int frames;

    @Option(names = "--iterations", defaultValue = "32", description = "Griffin-Lim iterations (default ${DEFAULT-VALUE})")
    int iterations;

    @Option(names = "--seed", defaultValue = "0", description = "spectrogram and phase seed (default ${DEFAULT-VALUE})")
    long seed;

    /** Runs without the {@code v2a} launcher: {@code java -cp ... io.github.v2a4j.cli.BenchAudioCommand}. */
    public static void main(String[] args) {
        System.exit(new picocli.CommandLine(new BenchAudioCommand()).execute(args));
    }

    @Override
    public Integer call() {
        SpectrogramParams p = SpectrogramParams.defaults().withGriffinLimIters(iterations);
        int nMels = p.numFrequencies();
        // image-like mel: pixel v ~ U{0..255}, mel = ((255 − v)/255)^4 · 3e7 as riffusion decodes an image
        SplittableRandom rng = new SplittableRandom(seed);
        float[] mel = new float[nMels * frames];
        for (int i = 0; i < mel.length; i++) {
            float x = (255f - rng.nextInt(256)) / 255f;
            mel[i] = (float) Math.pow(x, 4) * 3e7f;
        }
        long t0 = System.nanoTime();
        InverseMelScale ims = InverseMelScale.of(p);
        GriffinLim gl = new GriffinLim(p);
        float[][] phases = gl.randomPhases(frames, seed + 1);
        System.out.printf("audio bench: inverse mel + %d Griffin-Lim iterations, %d mels x %d frames -> %d samples "
                        + "(n_fft %d, hop %d, FFT %s), %d threads, setup %.2f s, load %s%n", iterations, nMels, frames,
                p.hopLength() * (frames - 1), p.nFft(), p.hopLength(), io.github.v2a4j.audio.RealFft.backend(),
                Runtime.getRuntime().availableProcessors(),
                (System.nanoTime() - t0) / 1e9, Machine.loadAverage());
        List<Double> times = new ArrayList<>();
        for (int i = 0; i < warmup + repeats; i++) {
            long start = System.nanoTime();
            float[][] s = ims.applyFrames(mel, frames);
            long mid = System.nanoTime();
            float[] y = gl.runFrames(s, phases, null);
            double sec = (System.nanoTime() - start) / 1e9;
            double sum = 0;
            for (float v : y) sum += Math.abs(v);
            boolean timed = i >= warmup;
            if (timed) times.add(sec);
            System.out.printf("  run %d%s: %.2f s (inverse mel %.3f s, Griffin-Lim %.2f s), sum|y| %.6e, peak RSS %.2f GB, load %s%n",
                    i + 1, timed ? "" : " (warm-up)", sec, (mid - start) / 1e9, (System.nanoTime() - mid) / 1e9, sum,
                    Machine.memoryGb("VmHWM"), Machine.loadAverage());
        }
        if (times.isEmpty()) return 0;
        Collections.sort(times);
        double median = times.size() % 2 == 1 ? times.get(times.size() / 2)
                : (times.get(times.size() / 2 - 1) + times.get(times.size() / 2)) / 2;
        System.out.printf("median %.2f s over %d runs (min %.2f, max %.2f), peak RSS (VmHWM) %.2f GB, load %s%n", median,
                times.size(), times.get(0), times.get(times.size() - 1), Machine.memoryGb("VmHWM"), Machine.loadAverage());
        return 0;
    }
}
