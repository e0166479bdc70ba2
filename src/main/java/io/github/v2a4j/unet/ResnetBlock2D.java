package io.github.v2a4j.unet;

import io.github.v2a4j.nn.Binder;
import io.github.v2a4j.nn.Buffers;
import io.github.v2a4j.nn.ChannelsLast;
import io.github.v2a4j.nn.Conv2d;
import io.github.v2a4j.nn.Gemm;
import io.github.v2a4j.nn.Linear;
import io.github.v2a4j.nn.Norms;
import io.github.v2a4j.nn.Trace;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * diffusers ResnetBlock2D (time_embedding_norm "default"): GN → SiLU → conv1 → + time_emb_proj(SiLU(temb)) → GN →
 * SiLU → conv2, added to the input (through a 1×1 {@code conv_shortcut} when the width changes), divided by
 * {@code output_scale_factor}. Channels-last; each GroupNorm and its SiLU are one pass, and conv2 adds its result to
 * the shortcut as it writes it.
 */
final class ResnetBlock2D {
    final String path;
    private final int groups;
    private final double eps;
    private final double outputScaleFactor;
    private final INDArray norm1W, norm1B, norm2W, norm2B;
    private final Conv2d conv1, conv2, shortcut;
    private final Linear timeProj;

    ResnetBlock2D(Binder p, int cin, int cout, int tembDim, int groups, double eps, double outputScaleFactor) {
        this.path = p.path();
        this.groups = groups;
        this.eps = eps;
        this.outputScaleFactor = outputScaleFactor;
        norm1W = p.get("norm1.weight", cin);
        norm1B = p.get("norm1.bias", cin);
        conv1 = p.conv2d("conv1", cout, cin, 3, 1, 1, true);
        timeProj = p.dense("time_emb_proj", cout, tembDim, true);
        norm2W = p.get("norm2.weight", cout);
        norm2B = p.get("norm2.bias", cout);
        conv2 = p.conv2d("conv2", cout, cout, 3, 1, 1, true);
        shortcut = cin != cout ? p.conv2d("conv_shortcut", cout, cin, 1, 1, 0, true) : null;
    }

    /** x {@code [B,H,W,Cin]} (not modified), tembSilu = SiLU(temb) {@code [B,tembDim]} → {@code [B,H,W,Cout]}. */
    INDArray forward(INDArray x, INDArray tembSilu, Trace trace) {
        INDArray n1 = Buffers.take(x.shape());
        Norms.groupNorm(x, groups, norm1W, norm1B, eps, true, n1);
        INDArray h = conv1.apply(n1);
        Buffers.release(n1);
        INDArray t = timeProj.apply(tembSilu);
        ChannelsLast.addPerImageChannel(h, t);
        Buffers.release(t);
        Norms.groupNorm(h, groups, norm2W, norm2B, eps, true, h);
        // (input + hidden) / output_scale_factor: the sum is the same either way round
        INDArray out;
        if (shortcut == null) {
            out = Buffers.take(x.shape());
            out.assign(x);
        } else {
            out = shortcut.apply(x);
        }
        conv2.apply(h, out, Gemm.Epilogue.NONE.accumulating());
        Buffers.release(h);
        if (outputScaleFactor != 1.0) out.divi(outputScaleFactor);
        trace.recordChannelsLast(path + ".out", out);
        return out;
    }
}
