package io.github.v2a4j.vae;

import io.github.v2a4j.nn.Binder;
import io.github.v2a4j.nn.Trace;
import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;

/** diffusers {@code UpDecoderBlock2D}: {@code layers_per_block + 1} resnets, then (all but the last block) an upsampler. */
final class UpDecoderBlock {
    private final String path;
    private final List<VaeResnetBlock> resnets = new ArrayList<>();
    private final Upsample upsampler;

    UpDecoderBlock(Binder w, int cin, int cout, int layers, int groups, boolean addUpsample) {
        this.path = w.path();
        for (int i = 0; i < layers; i++) {
            resnets.add(new VaeResnetBlock(w.at("resnets." + i), i == 0 ? cin : cout, cout, groups));
        }
        this.upsampler = addUpsample ? new Upsample(w.at("upsamplers.0"), cout) : null;
    }

    /** Consumes {@code x}. */
    INDArray forward(INDArray x, Trace trace) {
        Layout.record(trace, path + ".in.0", x);
        INDArray h = x;
        for (VaeResnetBlock resnet : resnets) h = resnet.forward(h, trace);
        if (upsampler != null) h = upsampler.forward(h, trace);
        Layout.record(trace, path + ".out", h);
        return h;
    }
}
