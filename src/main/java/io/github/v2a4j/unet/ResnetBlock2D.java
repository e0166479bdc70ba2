package io.github.v2a4j.unet;

import io.github.v2a4j.nn.Binder;
import io.github.v2a4j.nn.NN;
import io.github.v2a4j.nn.Trace;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * diffusers ResnetBlock2D (time_embedding_norm "default"): GN → SiLU → conv1 → + time_emb_proj(SiLU(temb)) → GN →
 * SiLU → conv2, added to the input (through a 1×1 {@code conv_shortcut} when the width changes), divided by
 * {@code output_scale_factor}.
 */
final class ResnetBlock2D {
    final String path;
    private final int groups;
    private final double eps;
    private final double outputScaleFactor;
    private final INDArray norm1W, norm1B, conv1W, conv1B, tembW, tembB, norm2W, norm2B, conv2W, conv2B;
    private final INDArray shortcutW, shortcutB;

    ResnetBlock2D(Binder p, int cin, int cout, int tembDim, int groups, double eps,
                  double outputScaleFactor) {
        this.path = p.path();
        this.groups = groups;
        this.eps = eps;
        this.outputScaleFactor = outputScaleFactor;
        norm1W = p.get("norm1.weight", cin);
        norm1B = p.get("norm1.bias", cin);
        conv1W = p.conv("conv1.weight", cout, cin, 3, 3);
        conv1B = p.get("conv1.bias", cout);
        tembW = p.linear("time_emb_proj.weight", cout, tembDim);
        tembB = p.get("time_emb_proj.bias", cout);
        norm2W = p.get("norm2.weight", cout);
        norm2B = p.get("norm2.bias", cout);
        conv2W = p.conv("conv2.weight", cout, cout, 3, 3);
        conv2B = p.get("conv2.bias", cout);
        if (cin != cout) {
            shortcutW = p.conv("conv_shortcut.weight", cout, cin, 1, 1);
            shortcutB = p.get("conv_shortcut.bias", cout);
        } else {
            shortcutW = null;
            shortcutB = null;
        }
    }

    /** x {@code [B,Cin,H,W]} (not modified), tembSilu = SiLU(temb) {@code [B,tembDim]} → {@code [B,Cout,H,W]}. */
    INDArray forward(INDArray x, INDArray tembSilu, Trace trace) {
        INDArray n1 = NN.groupNormInPlace(x.dup('c'), groups, norm1W, norm1B, eps, true);
        INDArray h = NN.conv2d(n1, conv1W, conv1B, 1, 1);
        Ops.free(n1);
        Ops.addChannelBiasInPlace(h, NN.linear(tembSilu, tembW, tembB));
        NN.groupNormInPlace(h, groups, norm2W, norm2B, eps, true);
        INDArray out = NN.conv2d(h, conv2W, conv2B, 1, 1);
        Ops.free(h);
        // (input + hidden) / output_scale_factor: the sum is the same either way round
        if (shortcutW == null) {
            out.addi(x);
        } else {
            INDArray shortcut = Ops.conv1x1(x, shortcutW, shortcutB);
            out.addi(shortcut);
            Ops.free(shortcut);
        }
        if (outputScaleFactor != 1.0) out.divi(outputScaleFactor);
        trace.record(path + ".out", out);
        return out;
    }
}
