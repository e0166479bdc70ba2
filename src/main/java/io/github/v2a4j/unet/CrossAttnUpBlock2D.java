package io.github.v2a4j.unet;

import io.github.v2a4j.nn.Binder;
import io.github.v2a4j.nn.Buffers;
import io.github.v2a4j.nn.ChannelsLast;
import io.github.v2a4j.nn.Trace;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;

/** diffusers CrossAttnUpBlock2D: (concat skip → resnet → transformer) × (layers+1), then an optional upsample. */
final class CrossAttnUpBlock2D implements UpBlock {
    final String path;
    private final ResnetBlock2D[] resnets;
    private final Transformer2D[] attentions;
    private final Upsample2D upsampler;

    /**
     * @param skipChannels channels of the skips this block pops, in pop order
     */
    CrossAttnUpBlock2D(Binder p, UNetConfig c, int prevOut, int cout, int[] skipChannels, int heads,
                       boolean addUpsample) {
        this.path = p.path();
        resnets = new ResnetBlock2D[skipChannels.length];
        attentions = new Transformer2D[skipChannels.length];
        for (int j = 0; j < resnets.length; j++) {
            int hin = j == 0 ? prevOut : cout;
            resnets[j] = new ResnetBlock2D(p.at("resnets." + j), hin + skipChannels[j], cout,
                    c.timeEmbedDim(), c.normNumGroups(), c.normEps(), 1.0);
            attentions[j] = new Transformer2D(p.at("attentions." + j), cout, heads,
                    c.normNumGroups(), c.crossAttentionDim(), c.videoEmbedDim(), c.textEmbedDim());
        }
        upsampler = addUpsample ? new Upsample2D(p.at("upsamplers.0"), cout) : null;
    }

    @Override
    public INDArray forward(INDArray x, INDArray tembSilu, Conditioning cond, List<INDArray> skips, Trace trace) {
        for (int j = 0; j < resnets.length; j++) {
            INDArray skip = skips.remove(skips.size() - 1);
            // each skip is used once; h, the skip and their concat are dead after the resnet
            INDArray cat = ChannelsLast.concat(x, skip);
            Buffers.release(x, skip);
            INDArray r = resnets[j].forward(cat, tembSilu, trace);
            Buffers.release(cat);
            x = attentions[j].forward(r, cond, trace);
            Buffers.release(r);
        }
        if (upsampler != null) {
            INDArray next = skips.get(skips.size() - 1);
            INDArray up = upsampler.forward(x, next.size(1), next.size(2), trace);
            Buffers.release(x);
            x = up;
        }
        trace.recordChannelsLast(path + ".out", x);
        return x;
    }
}
