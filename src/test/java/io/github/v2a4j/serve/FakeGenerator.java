package io.github.v2a4j.serve;

import io.github.v2a4j.pipeline.PipelineListener;
import io.github.v2a4j.pipeline.Stage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/**
 * A {@link ClipGenerator} without a model, for the queue, persistence and fault tests: {@code steps} denoising steps
 * of {@code stepMillis} each (checking cancellation at every step, as the real one does), then small result files
 * that name the job's prompt. With {@link #gated} each step waits for a permit, so a test decides when a job moves
 * (a cancel or a stop ends the wait, as it would end a real step).
 * A prompt of "fail" fails the job with a message naming the input file.
 */
final class FakeGenerator implements ClipGenerator {
    final int steps;
    final long stepMillis;
    final Semaphore gate;
    final AtomicInteger started = new AtomicInteger();

    FakeGenerator(int steps, long stepMillis) {
        this(steps, stepMillis, null);
    }

    private FakeGenerator(int steps, long stepMillis, Semaphore gate) {
        this.steps = steps;
        this.stepMillis = stepMillis;
        this.gate = gate;
    }

    /** Every step waits for a permit of the returned generator's {@link #gate}. */
    static FakeGenerator gated(int steps) {
        return new FakeGenerator(steps, 0, new Semaphore(0));
    }

    static String resultText(JobOptions o) {
        return "fake mp4 for prompt '" + o.prompt() + "' seed " + o.seed();
    }

    @Override
    public Result generate(Path video, Path outDir, JobOptions options, PipelineListener listener,
                           BooleanSupplier cancelled) {
        started.incrementAndGet();
        if (!Files.isRegularFile(video)) throw new IllegalStateException(video + ": the upload is missing");
        if (options.prompt().equals("fail")) throw new IllegalArgumentException(video + ": cannot decode frame 3");
        long t0 = System.nanoTime();
        listener.started(Stage.DENOISE, steps);
        for (int i = 1; i <= steps; i++) {
            try {
                if (gate == null) {
                    Thread.sleep(stepMillis);
                } else {
                    // a waiting step notices a cancel too, as a real step would once it ends
                    while (!gate.tryAcquire(10, TimeUnit.MILLISECONDS)) {
                        if (cancelled.getAsBoolean()) throw new CancellationException("cancelled");
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CancellationException("interrupted");
            }
            listener.progress(Stage.DENOISE, i, steps, "step " + i + "/" + steps);
            if (cancelled.getAsBoolean()) throw new CancellationException("cancelled");
        }
        Duration denoise = Duration.ofNanos(System.nanoTime() - t0);
        listener.finished(Stage.DENOISE, denoise);
        try {
            Files.writeString(outDir.resolve(RESULT), resultText(options), StandardCharsets.UTF_8);
            Files.writeString(outDir.resolve(AUDIO), "fake wav", StandardCharsets.UTF_8);
            Files.writeString(outDir.resolve(SPECTROGRAM), "fake png", StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new Result(1.5, Map.of(Stage.DENOISE, denoise));
    }
}
