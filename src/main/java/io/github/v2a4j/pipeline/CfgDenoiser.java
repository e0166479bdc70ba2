package io.github.v2a4j.pipeline;

import io.github.v2a4j.diffusion.GuidedNoiseModel;
import io.github.v2a4j.diffusion.Guidance;
import io.github.v2a4j.nn.FiniteGuard;
import io.github.v2a4j.nn.Trace;
import io.github.v2a4j.unet.Conditioning;
import io.github.v2a4j.unet.UNet;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The UNet with classifier-free guidance as K4 runs it: text {@code [2, L, textDim]} and video {@code [2, T, videoDim]}
 * with row 0 the unconditional branch (negative prompt, black video) and row 1 the conditional one, and the guided
 * noise {@code uncond + scale·(cond − uncond)}. Keeps one {@link Conditioning} per mode, so text and video keys and
 * values are computed once for the whole loop.
 *
 * <p>Reports {@code unet.in.timestep} and {@code unet.out.0} (the raw {@code [uncond, cond]} prediction) to the
 * trace, and the UNet's own modules under their paths.
 */
public final class CfgDenoiser implements GuidedNoiseModel {
    private final UNet unet;
    private final float scale;
    private final boolean oneBatch;
    private final Conditioning both;
    private final Conditioning uncond;
    private final Conditioning cond;

    /**
     * @param scale    guidance scale, &gt; 1 (K4 always guides)
     * @param oneBatch true: one batch-2 UNet call per step (what the reference does, and faster here: GEMMs,
     *                 attention and per-op overheads amortise over the batch); false: two batch-1 calls (same values
     *                 up to fp32 summation order inside the GEMMs)
     */
    public CfgDenoiser(UNet unet, INDArray text, INDArray video, float scale, boolean oneBatch) {
        if (text.size(0) != 2 || video.size(0) != 2) {
            throw new IllegalArgumentException("CFG conditioning needs batch 2 [uncond, cond], got text "
                    + java.util.Arrays.toString(text.shape()) + ", video " + java.util.Arrays.toString(video.shape()));
        }
        if (!(scale > 1f)) {
            throw new IllegalArgumentException("guidance scale " + scale + ": the K4 pipeline always uses CFG (> 1)");
        }
        this.unet = unet;
        this.scale = scale;
        this.oneBatch = oneBatch;
        this.both = new Conditioning(text, video);
        this.uncond = new Conditioning(row(text, 0), row(video, 0));
        this.cond = new Conditioning(row(text, 1), row(video, 1));
    }

    private static INDArray row(INDArray x, int i) {
        return x.get(NDArrayIndex.interval(i, i + 1), NDArrayIndex.all(), NDArrayIndex.all()).dup('c');
    }

    @Override
    public INDArray eps(INDArray latents, int timestep, Trace trace) {
        if (trace.wants("unet.in.timestep")) trace.record("unet.in.timestep", Nd4j.scalar((long) timestep));
        INDArray[] e = predictBoth(latents, timestep, trace);
        if (trace.wants("unet.out.0")) trace.record("unet.out.0", Nd4j.concat(0, e[0], e[1]));
        INDArray guided = Guidance.combine(e[0], e[1], scale);
        // both branches were finite (the UNet runs under a guard): only a large scale can overflow here
        FiniteGuard.requireFinite(guided, "the guided noise at guidance " + scale + " (both UNet outputs finite)");
        return guided;
    }

    @Override
    public String name() {
        return "UNet";
    }

    /** ε of both branches, {@code {uncond, cond}}, each {@code [1, C, h, w]}. */
    INDArray[] predictBoth(INDArray latents, int timestep, Trace trace) {
        if (oneBatch) {
            INDArray eps = unet.forward(Nd4j.concat(0, latents, latents), timestep, both, trace);
            return new INDArray[]{
                    eps.get(NDArrayIndex.interval(0, 1)).dup('c'), eps.get(NDArrayIndex.interval(1, 2)).dup('c')};
        }
        return new INDArray[]{
                unet.forward(latents, timestep, uncond, trace), unet.forward(latents, timestep, cond, trace)};
    }

    @Override
    public void close() {
        unet.releaseBuffers();
    }
}
