package io.github.v2a4j.unet;

import io.github.v2a4j.io.MapSource;
import io.github.v2a4j.io.TensorSource;
import io.github.v2a4j.nn.Binder;
import io.github.v2a4j.nn.Buffers;
import io.github.v2a4j.nn.ChannelsLast;
import io.github.v2a4j.nn.Conv2d;
import io.github.v2a4j.nn.Norms;
import io.github.v2a4j.nn.Precision;
import io.github.v2a4j.nn.NN;
import io.github.v2a4j.nn.Trace;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The K4 video-conditioned UNet (diffusers UNet2DConditionModel + K4 attention processors), eager fp32.
 *
 * <pre>
 * temb = time_embedding(time_proj(t));  h = conv_in(sample);  skips = [h]
 * down_blocks (pushing skips) → mid_block → up_blocks (popping skips) → conv_norm_out → SiLU → conv_out
 * </pre>
 * Every block reports {@code <module path>.out} to the trace.
 */
public final class UNet {
    private final UNetConfig config;
    private final Conv2d convIn, convOut;
    private final INDArray normOutW, normOutB;
    private final TimestepEmbedding timeEmbedding;
    private final DownBlock[] downBlocks;
    private final UNetMidBlock2DCrossAttn midBlock;
    private final UpBlock[] upBlocks;

    /**
     * Builds the UNet over a checkpoint (its tensors named as in a diffusers {@code unet/} folder) and checks it
     * strictly: one error lists every missing, unexpected and mis-shaped tensor.
     */
    public static UNet load(UNetConfig config, TensorSource source) {
        return load(config, source, Precision.FP32);
    }

    /** As {@link #load(UNetConfig, TensorSource)}, with the products (linears, convolutions, attention) in {@code precision}. */
    public static UNet load(UNetConfig config, TensorSource source, Precision precision) {
        Binder b = Binder.load(source, "UNet", precision);
        UNet unet = new UNet(config, b);
        b.verify();
        return unet;
    }

    UNet(UNetConfig config, Binder p) {
        config.check();
        this.config = config;
        int[] out = config.blockOutChannels();
        int c0 = out[0];
        int groups = config.normNumGroups();
        convIn = p.conv2d("conv_in", c0, config.inChannels(), 3, 1, 1, true);
        timeEmbedding = new TimestepEmbedding(p.at("time_embedding"), c0, config.timeEmbedDim(),
                config.flipSinToCos(), config.freqShift());

        int n = out.length;
        downBlocks = new DownBlock[n];
        List<Integer> skipChannels = new ArrayList<>(List.of(c0));
        int prev = c0;
        for (int i = 0; i < n; i++) {
            boolean last = i == n - 1;
            Binder bp = p.at("down_blocks." + i);
            downBlocks[i] = config.downBlockTypes()[i].equals("CrossAttnDownBlock2D")
                    ? new CrossAttnDownBlock2D(bp, config, prev, out[i], config.attentionHeads()[i], !last)
                    : new DownBlock2D(bp, config, prev, out[i], !last);
            for (int j = 0; j < config.layersPerBlock() + (last ? 0 : 1); j++) skipChannels.add(out[i]);
            prev = out[i];
        }
        midBlock = new UNetMidBlock2DCrossAttn(p.at("mid_block"), config);

        upBlocks = new UpBlock[n];
        int layers = config.layersPerBlock() + 1;
        for (int i = 0; i < n; i++) {
            boolean last = i == n - 1;
            int cout = out[n - 1 - i];
            int[] skips = new int[layers];
            for (int j = 0; j < layers; j++) skips[j] = skipChannels.remove(skipChannels.size() - 1);
            Binder bp = p.at("up_blocks." + i);
            upBlocks[i] = config.upBlockTypes()[i].equals("CrossAttnUpBlock2D")
                    ? new CrossAttnUpBlock2D(bp, config, prev, cout, skips, config.upHeads(i), !last)
                    : new UpBlock2D(bp, config, prev, cout, skips, !last);
            prev = cout;
        }
        normOutW = p.get("conv_norm_out.weight", c0);
        normOutB = p.get("conv_norm_out.bias", c0);
        convOut = p.conv2d("conv_out", config.outChannels(), c0, 3, 1, 1, true);
        if (groups <= 0 || c0 % groups != 0) {
            throw new IllegalArgumentException("norm_num_groups " + groups + " does not divide " + c0);
        }
    }

    /**
     * Activation buffers kept between evaluations: the 51 evaluations of a denoising loop run the same pass, so after
     * the first one the UNet takes every buffer from here instead of allocating (and first-touching) it.
     */
    private final Buffers.Pool scratch = Buffers.newPool(Buffers.DEFAULT_BUDGET);

    /** Frees the activation buffers kept between evaluations: call it when no evaluation follows. */
    public void releaseBuffers() {
        scratch.clear();
    }

    public UNetConfig config() {
        return config;
    }

    /** One evaluation with fresh conditioning: sample {@code [B,in,h,w]}, text {@code [B,L,textDim]}, video {@code [B,T,videoDim]}. */
    public INDArray forward(INDArray sample, float timestep, INDArray textEmbeds, INDArray videoEmbeds, Trace trace) {
        return forward(sample, timestep, new Conditioning(textEmbeds, videoEmbeds), trace);
    }

    /**
     * One evaluation → predicted noise {@code [B,out,h,w]}. Reusing {@code cond} across steps reuses the keys/values
     * of the text and video attentions. The sample is not modified.
     */
    public INDArray forward(INDArray sample, float timestep, Conditioning cond, Trace trace) {
        if (sample.rank() != 4 || sample.size(1) != config.inChannels() || sample.size(0) != cond.batch()) {
            throw new IllegalArgumentException("UNet: sample " + Arrays.toString(sample.shape()) + " does not fit "
                    + config.inChannels() + " channels / conditioning batch " + cond.batch());
        }
        try (Buffers.Scope ignored = scratch.enter()) {
            return run(sample, timestep, cond, trace);
        }
    }

    /** The pass itself, channels-last inside: {@code [B,C,H,W]} in, {@code [B,C,H,W]} out. */
    private INDArray run(INDArray sample, float timestep, Conditioning cond, Trace trace) {
        int batch = (int) sample.size(0);
        if (config.centerInputSample()) sample = sample.mul(2.0).subi(1.0);
        INDArray temb = timeEmbedding.forward(timestep, batch, trace);
        // every resnet applies SiLU to temb first: compute it once
        INDArray tembSilu = NN.siluInPlace(temb);

        INDArray x = ChannelsLast.fromChannelsFirst(sample);
        INDArray h = convIn.apply(x);
        Buffers.release(x);
        trace.recordChannelsLast("conv_in.out", h);
        List<INDArray> skips = new ArrayList<>();
        skips.add(h);
        for (DownBlock b : downBlocks) h = b.forward(h, tembSilu, cond, skips, trace);
        h = midBlock.forward(h, tembSilu, cond, trace);
        for (UpBlock b : upBlocks) h = b.forward(h, tembSilu, cond, skips, trace);

        // conv_norm_out is traced before its SiLU: fused only when nobody looks
        boolean traced = trace.wants("conv_norm_out.out");
        INDArray n = Buffers.take(h.shape());
        Norms.groupNorm(h, config.normNumGroups(), normOutW, normOutB, config.normEps(), !traced, n);
        Buffers.release(h);
        if (traced) {
            trace.recordChannelsLast("conv_norm_out.out", n);
            NN.siluInPlace(n);
        }
        INDArray out = convOut.apply(n);
        Buffers.release(n, tembSilu);
        INDArray eps = ChannelsLast.toChannelsFirst(out);
        Buffers.release(out);
        trace.record("conv_out.out", eps);
        return eps;
    }

    /**
     * Every tensor this UNet reads, with its shape, in the order it asks for them: the checkpoint layout for
     * {@code config}, from a dry run of the constructor (no tensor is allocated).
     */
    public static Map<String, long[]> parameterShapes(UNetConfig config) {
        Binder b = Binder.check(MapSource.empty(), "UNet");
        new UNet(config, b);
        return b.parameters();
    }
}
