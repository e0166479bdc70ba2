package io.github.v2a4j.unet;

import io.github.v2a4j.nn.Binder;
import io.github.v2a4j.nn.Buffers;
import io.github.v2a4j.nn.Trace;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;

/** diffusers CrossAttnDownBlock2D: (resnet → transformer) × layers, each output a skip, then an optional downsample. */
final class CrossAttnDownBlock2D implements DownBlock {
    final String path;
    private final ResnetBlock2D[] resnets;
    private final Transformer2D[] attentions;
    private final Downsample2D downsampler;

    CrossAttnDownBlock2D(Binder p, UNetConfig c, int cin, int cout, int heads, boolean addDownsample) {
        this.path = p.path();
        resnets = new ResnetBlock2D[c.layersPerBlock()];
        attentions = new Transformer2D[c.layersPerBlock()];
        for (int j = 0; j < resnets.length; j++) {
            resnets[j] = new ResnetBlock2D(p.at("resnets." + j), j == 0 ? cin : cout, cout,
                    c.timeEmbedDim(), c.normNumGroups(), c.normEps(), 1.0);
            attentions[j] = new Transformer2D(p.at("attentions." + j), cout, heads,
                    c.normNumGroups(), c.crossAttentionDim(), c.videoEmbedDim(), c.textEmbedDim());
        }
        downsampler = addDownsample ? new Downsample2D(p.at("downsamplers.0"), cout) : null;
    }

    @Override
    public INDArray forward(INDArray x, INDArray tembSilu, Conditioning cond, List<INDArray> skips, Trace trace) {
        int first = skips.size();
        for (int j = 0; j < resnets.length; j++) {
            INDArray r = resnets[j].forward(x, tembSilu, trace);
            x = attentions[j].forward(r, cond, trace);
            Buffers.release(r);   // the block's input is a skip and stays; the resnet output is dead
            skips.add(x);
        }
        if (downsampler != null) {
            x = downsampler.forward(x, trace);
            skips.add(x);
        }
        // the block returns (hidden_states, its skips): recorded as .out.0 and .out.1.<j>
        trace.recordChannelsLast(path + ".out.0", x);
        for (int j = first; j < skips.size(); j++) trace.recordChannelsLast(path + ".out.1." + (j - first), skips.get(j));
        return x;
    }
}
