package io.github.v2a4j.diffusion;

import io.github.v2a4j.nn.FiniteGuard;
import io.github.v2a4j.nn.Trace;
import java.util.SplittableRandom;
import java.util.concurrent.CancellationException;
import java.util.function.BooleanSupplier;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The denoising loop of the K4 pipeline ({@code video2audio_pipe.py} {@code __call__}): the initial latents times
 * the scheduler's {@code init_noise_sigma}, then for every timestep the model's guided noise and one scheduler step.
 * The pipeline runs it and the golden tests check it.
 *
 * <p>It reports each step's {@code scheduler.step.in.{model_output, timestep, sample}} and {@code
 * scheduler.step.out.0} to the trace, tells the listener after every step, checks the caller's cancellation before
 * every step, and asks the model to release its scratch memory after every step. Every model evaluation runs under a
 * {@link FiniteGuard} and the latents are checked after every step, so a NaN or Inf stops the loop at the step, and
 * the block, that made it.
 */
public final class DenoiseLoop {

    /** Called after every step. */
    @FunctionalInterface
    public interface StepListener {
        StepListener NONE = (index, total, timestep) -> {};

        /**
         * @param done     steps finished (1 after the first)
         * @param total    steps of the chain (51 for PNDM at 50 inference steps)
         * @param timestep the timestep just done
         */
        void onStep(int done, int total, int timestep);
    }

    private final Scheduler scheduler;

    public DenoiseLoop(Scheduler scheduler) {
        this.scheduler = scheduler;
    }

    public Scheduler scheduler() {
        return scheduler;
    }

    /**
     * Runs the chain from {@code latents} ({@code [1, C, h, w]}, not modified) and returns the final latents.
     *
     * @param cancelled checked before every step; when it says true the loop throws {@link CancellationException}
     */
    public INDArray run(GuidedNoiseModel model, INDArray latents, int numInferenceSteps, Trace trace,
                        StepListener listener, BooleanSupplier cancelled) {
        scheduler.setTimesteps(numInferenceSteps);
        int[] timesteps = scheduler.timesteps();
        INDArray x = latents.mul(scheduler.initNoiseSigma());
        for (int i = 0; i < timesteps.length; i++) {
            if (cancelled.getAsBoolean()) {
                throw new CancellationException("cancelled after " + i + " of " + timesteps.length + " denoising steps");
            }
            int t = timesteps[i];
            INDArray in = scheduler.scaleModelInput(x, t);
            String where = "the latents of step " + (i + 1) + " of " + timesteps.length + " at timestep " + t;
            INDArray eps = FiniteGuard.run(model.name(), where, () -> model.eps(in, t, trace));
            trace.record("scheduler.step.in.model_output", eps);
            if (trace.wants("scheduler.step.in.timestep")) trace.record("scheduler.step.in.timestep", Nd4j.scalar((long) t));
            trace.record("scheduler.step.in.sample", x);
            x = scheduler.step(eps, t, x);
            FiniteGuard.requireFinite(x, "the latents after step " + (i + 1) + " of " + timesteps.length
                    + " (timestep " + t + ", " + scheduler.name() + ")");
            trace.record("scheduler.step.out.0", x);
            model.releaseScratch();
            listener.onStep(i + 1, timesteps.length, t);
        }
        return x;
    }

    /**
     * Initial latents N(0,1) from a seed (SplittableRandom + Marsaglia polar method): deterministic across machines
     * and ND4J versions. Not the reference's torch generator stream: pass the latents explicitly to reproduce a
     * reference run.
     */
    public static INDArray randomLatents(long seed, long... shape) {
        long n = 1;
        for (long d : shape) n *= d;
        float[] v = new float[Math.toIntExact(n)];
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < v.length; ) {
            double u1, u2, s;
            do {
                u1 = 2 * r.nextDouble() - 1;
                u2 = 2 * r.nextDouble() - 1;
                s = u1 * u1 + u2 * u2;
            } while (s >= 1 || s == 0);
            double m = Math.sqrt(-2 * Math.log(s) / s);
            v[i++] = (float) (u1 * m);
            if (i < v.length) v[i++] = (float) (u2 * m);
        }
        return Nd4j.create(v, shape, 'c');
    }
}
