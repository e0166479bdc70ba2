package io.github.v2a4j.vae;

import io.github.v2a4j.nn.Buffers;
import io.github.v2a4j.nn.Trace;
import io.github.v2a4j.nn.Binder;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * diffusers {@code Upsample2D(use_conv=True)} without an explicit size: nearest ×2, then {@code conv} 3×3. The two
 * are done together band by band, so the ×2 image (620 MB before the last block at 512×1184) is never stored whole.
 */
final class Upsample {
    private final String path;
    private final Conv2d conv;

    Upsample(Binder w, int channels) {
        this.path = w.path();
        this.conv = new Conv2d(w.at("conv"), channels, channels, 3);
    }

    /** Consumes {@code x}. */
    INDArray forward(INDArray x, Trace trace) {
        Layout.record(trace, path + ".in.0", x);
        INDArray out = conv.forwardUpsampled2x(x, trace);
        Buffers.release(x);
        Layout.record(trace, path + ".out", out);
        return out;
    }
}
