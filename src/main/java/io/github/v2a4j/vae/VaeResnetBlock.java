package io.github.v2a4j.vae;

import io.github.v2a4j.nn.Buffers;
import io.github.v2a4j.nn.Trace;
import io.github.v2a4j.nn.Binder;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * diffusers {@code ResnetBlock2D} as the VAE builds it: no time embedding, GroupNorm eps 1e-6, output scale 1.
 * {@code out = shortcut(x) + conv2(silu(norm2(conv1(silu(norm1(x))))))}, with {@code shortcut} a 1×1
 * {@code conv_shortcut} iff cin ≠ cout. (Same maths as the UNet's block minus {@code time_emb_proj}; a candidate
 * for a shared block later.)
 */
final class VaeResnetBlock {
    static final double EPS = 1e-6;

    private final String path;
    private final GroupNorm norm1;
    private final Conv2d conv1;
    private final GroupNorm norm2;
    private final Conv2d conv2;
    private final Conv2d convShortcut;

    VaeResnetBlock(Binder w, int cin, int cout, int groups) {
        this.path = w.path();
        this.norm1 = new GroupNorm(w.at("norm1"), cin, groups, EPS);
        this.conv1 = new Conv2d(w.at("conv1"), cin, cout, 3);
        this.norm2 = new GroupNorm(w.at("norm2"), cout, groups, EPS);
        this.conv2 = new Conv2d(w.at("conv2"), cout, cout, 3);
        this.convShortcut = cin != cout ? new Conv2d(w.at("conv_shortcut"), cin, cout, 1) : null;
    }

    /** Consumes {@code x}: its buffer is reused or freed; the caller must not use it afterwards. */
    INDArray forward(INDArray x, Trace trace) {
        Layout.record(trace, path + ".in.0", x);
        // With a conv shortcut, take it first: x is then dead after norm1 and norm1 can overwrite it.
        INDArray shortcut = convShortcut != null ? convShortcut.forward(x, trace) : null;
        INDArray h = norm1.normSilu(x, shortcut != null, trace);
        INDArray h1 = conv1.forward(h, trace);
        Buffers.release(h);
        norm2.normSilu(h1, true, trace);
        INDArray out = conv2.forward(h1, trace);
        Buffers.release(h1);
        if (shortcut != null) {
            out.addi(shortcut);
            Buffers.release(shortcut);
        } else {
            out.addi(x);
            Buffers.release(x);
        }
        Layout.record(trace, path + ".out", out);
        return out;
    }
}
