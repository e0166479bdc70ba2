package io.github.v2a4j.unet;

import io.github.v2a4j.nn.Binder;
import io.github.v2a4j.nn.Buffers;
import io.github.v2a4j.nn.Trace;
import org.nd4j.linalg.api.ndarray.INDArray;

/** diffusers UNetMidBlock2DCrossAttn: resnet → transformer → resnet (resnets scaled by mid_block_scale_factor). */
final class UNetMidBlock2DCrossAttn {
    final String path;
    private final ResnetBlock2D resnet0, resnet1;
    private final Transformer2D attention;

    UNetMidBlock2DCrossAttn(Binder p, UNetConfig c) {
        this.path = p.path();
        int ch = c.blockOutChannels()[c.blockOutChannels().length - 1];
        resnet0 = new ResnetBlock2D(p.at("resnets.0"), ch, ch, c.timeEmbedDim(),
                c.normNumGroups(), c.normEps(), c.midBlockScaleFactor());
        attention = new Transformer2D(p.at("attentions.0"), ch, c.midHeads(),
                c.normNumGroups(), c.crossAttentionDim(), c.videoEmbedDim(), c.textEmbedDim());
        resnet1 = new ResnetBlock2D(p.at("resnets.1"), ch, ch, c.timeEmbedDim(),
                c.normNumGroups(), c.normEps(), c.midBlockScaleFactor());
    }

    INDArray forward(INDArray x, INDArray tembSilu, Conditioning cond, Trace trace) {
        // the input is the last skip (kept); the two intermediates are dead after use
        INDArray r = resnet0.forward(x, tembSilu, trace);
        INDArray a = attention.forward(r, cond, trace);
        Buffers.release(r);
        x = resnet1.forward(a, tembSilu, trace);
        Buffers.release(a);
        trace.recordChannelsLast(path + ".out", x);
        return x;
    }
}
