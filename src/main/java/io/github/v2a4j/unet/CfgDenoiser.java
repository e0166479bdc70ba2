package io.github.v2a4j.unet;

import io.github.v2a4j.diffusion.GuidedNoiseModel;
import io.github.v2a4j.nn.Trace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The UNet with its CFG conditioning: text {@code [2,L,textDim]} and video {@code [2,T,videoDim]} with row 0 the
 * unconditional branch (negative prompt, black video) and row 1 the conditional one, as the reference concatenates
 * them. Keeps one {@link Conditioning} per mode, so text/video keys and values are computed once for the whole loop.
 */
public final class CfgDenoiser implements GuidedNoiseModel {
    private final UNet unet;
    private final Conditioning both;
    private final Conditioning uncond;
    private final Conditioning cond;

    public CfgDenoiser(UNet unet, INDArray text, INDArray video) {
        if (text.size(0) != 2 || video.size(0) != 2) {
            throw new IllegalArgumentException("CFG conditioning needs batch 2 [uncond, cond], got text "
                    + java.util.Arrays.toString(text.shape()) + ", video " + java.util.Arrays.toString(video.shape()));
        }
        this.unet = unet;
        this.both = new Conditioning(text, video);
        this.uncond = new Conditioning(row(text, 0), row(video, 0));
        this.cond = new Conditioning(row(text, 1), row(video, 1));
    }

    private static INDArray row(INDArray x, int i) {
        return x.get(NDArrayIndex.interval(i, i + 1), NDArrayIndex.all(), NDArrayIndex.all()).dup('c');
    }

    @Override
    public INDArray[] predictBoth(INDArray latents, int timestep, boolean oneBatch) {
        return predictBoth(latents, timestep, oneBatch, Trace.OFF);
    }

    /** As {@link #predictBoth(INDArray, int, boolean)}, reporting the UNet's tensors to {@code trace}. */
    public INDArray[] predictBoth(INDArray latents, int timestep, boolean oneBatch, Trace trace) {
        if (oneBatch) {
            INDArray eps = unet.forward(Nd4j.concat(0, latents, latents), timestep, both, trace);
            return new INDArray[]{
                    eps.get(NDArrayIndex.interval(0, 1)).dup('c'), eps.get(NDArrayIndex.interval(1, 2)).dup('c')};
        }
        return new INDArray[]{
                unet.forward(latents, timestep, uncond, trace), unet.forward(latents, timestep, cond, trace)};
    }
}
