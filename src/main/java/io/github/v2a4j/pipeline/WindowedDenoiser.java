package io.github.v2a4j.pipeline;

import io.github.v2a4j.diffusion.GuidedNoiseModel;
import io.github.v2a4j.nn.Trace;
import io.github.v2a4j.unet.UNet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.function.BooleanSupplier;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Broadcast;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.INDArrayIndex;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * MultiDiffusion (Bar-Tal et al. 2023) over the time axis of a long latent: at every step each window of
 * {@link LatentWindows} is predicted by its own model (in the pipeline, the UNet with classifier-free guidance and
 * that window's video conditioning, {@link CfgDenoiser}), and the guided predictions are combined into one noise for the whole latent, each column
 * the weighted average of the windows covering it. The scheduler then steps the whole latent once, so every window
 * reads the same values in the columns it shares with its neighbours: the overlaps agree by construction at every
 * step, and a seam is denoised jointly rather than cross-faded afterwards.
 *
 * <p>Cost: one guided UNet evaluation per window and step (one batch-2 call with {@code --cfg batch}). The windows
 * share one UNet, so its kept activation buffers serve every window (they all have the same shape). With one
 * window this is exactly that window's model: same calls, same values, bit for bit.
 */
public final class WindowedDenoiser implements GuidedNoiseModel {

    /** Told after every window's evaluation. */
    @FunctionalInterface
    public interface WindowListener {
        /**
         * @param step    the denoising step, from 1
         * @param window  the window just evaluated, from 1
         * @param windows windows per step
         */
        void windowDone(int step, int window, int windows);
    }

    private final LatentWindows windows;
    private final List<GuidedNoiseModel> models;
    private final INDArray[] weights;
    private final WindowListener listener;
    private final BooleanSupplier cancelled;
    private final long[] nanos;
    private int step;

    /** One model per window, each predicting {@code [1, C, h, windows.window()]}; closed with this one. */
    public WindowedDenoiser(List<? extends GuidedNoiseModel> models, LatentWindows windows, WindowListener listener,
                            BooleanSupplier cancelled) {
        if (models.size() != windows.count()) {
            throw new IllegalArgumentException(windows.count() + " latent windows but " + models.size() + " models");
        }
        this.windows = windows;
        this.models = List.copyOf(models);
        this.listener = listener;
        this.cancelled = cancelled;
        this.weights = new INDArray[windows.count()];
        this.nanos = new long[windows.count()];
        for (int k = 0; k < windows.count(); k++) weights[k] = Nd4j.createFromArray(windows.weights(k));
    }

    /**
     * The pipeline's windows: each a {@link CfgDenoiser} over the shared UNet and text, with the black video as the
     * unconditional branch and its own video embedding as the conditional one.
     *
     * @param text   {@code [2, L, textDim]}: negative prompt, prompt
     * @param black  the black video's embedding {@code [T, videoDim]}
     * @param videos one video embedding {@code [T, videoDim]} per window
     */
    public static WindowedDenoiser guided(UNet unet, INDArray text, INDArray black, List<INDArray> videos,
                                          LatentWindows windows, float scale, boolean oneBatch,
                                          WindowListener listener, BooleanSupplier cancelled) {
        List<CfgDenoiser> models = new ArrayList<>();
        for (INDArray video : videos) {
            models.add(new CfgDenoiser(unet, text, Nd4j.stack(0, black, video), scale, oneBatch));
        }
        return new WindowedDenoiser(models, windows, listener, cancelled);
    }

    /** Every window runs the same UNet: a block that overflows is named as the UNet's. */
    @Override
    public String name() {
        return "UNet";
    }

    @Override
    public INDArray eps(INDArray latents, int timestep, Trace trace) {
        if (latents.size(3) != windows.width()) {
            throw new IllegalArgumentException("latents are " + latents.size(3) + " columns wide, the windows cover "
                    + windows.width());
        }
        step++;
        int n = windows.count();
        if (n == 1) {
            long t0 = System.nanoTime();
            INDArray e = models.get(0).eps(latents, timestep, trace);
            nanos[0] += System.nanoTime() - t0;
            listener.windowDone(step, 1, 1);
            return e;
        }
        INDArray sum = Nd4j.zeros(latents.dataType(), latents.shape());
        for (int k = 0; k < n; k++) {
            if (k > 0 && cancelled.getAsBoolean()) {
                throw new CancellationException("cancelled in denoising step " + step + " after window " + k + " of " + n);
            }
            long t0 = System.nanoTime();
            INDArrayIndex[] cols = columns(k);
            INDArray e = models.get(k).eps(latents.get(cols).dup('c'), timestep, trace);
            Broadcast.mul(e, weights[k], e, 3);
            sum.get(cols).addi(e);
            nanos[k] += System.nanoTime() - t0;
            listener.windowDone(step, k + 1, n);
        }
        return sum;
    }

    /** Time spent predicting window {@code k} (from 0) over all steps so far. */
    public Duration time(int k) {
        return Duration.ofNanos(nanos[k]);
    }

    private INDArrayIndex[] columns(int k) {
        return new INDArrayIndex[] {NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all(),
            NDArrayIndex.interval(windows.start(k), windows.end(k))};
    }

    @Override
    public void releaseScratch() {
        for (GuidedNoiseModel m : models) m.releaseScratch();
    }

    @Override
    public void close() {
        for (GuidedNoiseModel m : models) m.close();
    }
}
