package io.github.v2a4j.diffusion;

import java.util.SplittableRandom;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The K4 denoising loop (video2audio_pipe.py {@code __call__}, spec §0 step 4): PNDM timesteps (51 UNet evaluations
 * for 50 steps with skip_prk_steps), at each one both CFG branches, {@link Guidance#combine}, then
 * {@link PndmScheduler#step}.
 */
public final class DenoiseLoop {

    /** Called after every scheduler step. */
    @FunctionalInterface
    public interface StepListener {
        /**
         * @param index   0-based index of the evaluation just done
         * @param total   number of evaluations (51 for 50 steps)
         * @param timestep the timestep it was run at
         * @param seconds wall time of the evaluation and step
         */
        void onStep(int index, int total, int timestep, double seconds);
    }

    private final PndmScheduler scheduler;
    private final GuidedNoiseModel model;
    private final float guidanceScale;
    private final boolean oneBatch;

    /**
     * @param oneBatch whether each evaluation is one batch-2 call (the reference) or two batch-1 calls; see
     *                 {@code v2a bench unet} for which is faster on this machine
     */
    public DenoiseLoop(PndmScheduler scheduler, GuidedNoiseModel model, float guidanceScale, boolean oneBatch) {
        this.scheduler = scheduler;
        this.model = model;
        this.guidanceScale = guidanceScale;
        this.oneBatch = oneBatch;
    }

    /** Runs the chain from {@code latents} ({@code [1,C,h,w]}, not modified) and returns the final latents. */
    public INDArray run(INDArray latents, int numInferenceSteps, StepListener listener) {
        if (guidanceScale <= 1f) {
            throw new IllegalArgumentException("guidance scale " + guidanceScale + ": the K4 pipeline always uses CFG (> 1)");
        }
        scheduler.setTimesteps(numInferenceSteps);
        int[] timesteps = scheduler.timesteps();
        INDArray x = latents.mul(scheduler.initNoiseSigma());
        for (int i = 0; i < timesteps.length; i++) {
            long t0 = System.nanoTime();
            INDArray[] eps = model.predictBoth(x, timesteps[i], oneBatch);
            INDArray guided = Guidance.combine(eps[0], eps[1], guidanceScale);
            x = scheduler.step(guided, timesteps[i], x);
            if (listener != null) listener.onStep(i, timesteps.length, timesteps[i], (System.nanoTime() - t0) / 1e9);
        }
        return x;
    }

    /**
     * Initial latents N(0,1) from a seed (SplittableRandom + Marsaglia polar method):
     * deterministic across machines and ND4J versions. Not the reference's torch generator stream: pass the latents
     * explicitly to reproduce a reference run.
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
