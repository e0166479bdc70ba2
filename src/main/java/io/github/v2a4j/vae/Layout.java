package io.github.v2a4j.vae;

import io.github.v2a4j.nn.Trace;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The decoder runs channels-last ({@code [B, H, W, C]}; the mid-block attention's tokens {@code [B, HW, C]}), the
 * layout oneDNN's convolutions compute in, so that no convolution reorders its 300–600 MB input and output. The
 * public API ({@link VaeDecoder#decode}) and every traced tensor stay channels-first, as upstream names them.
 */
final class Layout {
    private Layout() {}

    /** {@code [B, C, H, W]} → a dense {@code [B, H, W, C]} copy. */
    static INDArray toChannelsLast(INDArray nchw) {
        return nchw.permute(0, 2, 3, 1).dup('c');
    }

    /** {@code [B, H, W, C]} → a dense {@code [B, C, H, W]} copy; rank 3 {@code [B, L, C]} → {@code [B, C, L]}. */
    static INDArray toChannelsFirst(INDArray channelsLast) {
        return switch (channelsLast.rank()) {
            case 4 -> channelsLast.permute(0, 3, 1, 2).dup('c');
            case 3 -> channelsLast.permute(0, 2, 1).dup('c');
            default -> throw new IllegalArgumentException("expected rank 3 or 4, got " + channelsLast.rank());
        };
    }

    /**
     * Records a channels-last activation under its upstream (channels-first) shape, if the trace wants it (one layout
     * copy, only then), after the {@link io.github.v2a4j.nn.FiniteGuard} check of the tensor as it is.
     */
    static void record(Trace trace, String name, INDArray channelsLast) {
        trace.recordChannelsLast(name, channelsLast);
    }
}
