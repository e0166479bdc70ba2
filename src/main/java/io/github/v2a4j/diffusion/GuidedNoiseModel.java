package io.github.v2a4j.diffusion;

import io.github.v2a4j.nn.Trace;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * What {@link DenoiseLoop} asks of a model: the guided noise prediction for the current latents, the value the
 * scheduler steps with. Classifier-free guidance over one UNet is one implementation; one that predicts a long
 * latent window by window (each window with its own conditioning, overlaps averaged) is another, and runs in the
 * same loop.
 */
public interface GuidedNoiseModel extends AutoCloseable {

    /**
     * The guided noise for latents {@code [1, C, h, w]} at {@code timestep}, same shape. Tensors the model reports go
     * to {@code trace} under the reference's names.
     */
    INDArray eps(INDArray latents, int timestep, Trace trace);

    /** What runs, as messages name it ("UNet": "UNet: conv_in gave NaN ..."). */
    default String name() {
        return getClass().getSimpleName();
    }

    /** Called by the loop after every step: give back the memory of the finished evaluation. */
    default void releaseScratch() {}

    /** Called when the loop is done: give back everything kept between evaluations. */
    @Override
    default void close() {}
}
