package io.github.v2a4j.unet;

import io.github.v2a4j.io.TensorSource;
import io.github.v2a4j.nn.Attention;
import io.github.v2a4j.nn.NN;
import io.github.v2a4j.nn.Trace;
import io.github.v2a4j.nn.Weights;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
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
    private final INDArray convInW, convInB, normOutW, normOutB, convOutW, convOutB;
    private final TimestepEmbedding timeEmbedding;
    private final DownBlock[] downBlocks;
    private final UNetMidBlock2DCrossAttn midBlock;
    private final UpBlock[] upBlocks;

    /** Builds the UNet over a checkpoint and checks it strictly: one error lists every missing, unexpected, mis-shaped tensor. */
    public static UNet load(UNetConfig config, TensorSource source, String prefix) {
        Weights w = Weights.of(source, prefix);
        UNet unet = new UNet(config, Params.of(w));
        w.verify(true);
        return unet;
    }

    public UNet(UNetConfig config, Params p) {
        config.check();
        this.config = config;
        int[] out = config.blockOutChannels();
        int c0 = out[0];
        int groups = config.normNumGroups();
        convInW = p.get("conv_in.weight", c0, config.inChannels(), 3, 3);
        convInB = p.get("conv_in.bias", c0);
        timeEmbedding = new TimestepEmbedding(p.at("time_embedding"), "time_embedding", c0, config.timeEmbedDim(),
                config.flipSinToCos(), config.freqShift());

        int n = out.length;
        downBlocks = new DownBlock[n];
        List<Integer> skipChannels = new ArrayList<>(List.of(c0));
        int prev = c0;
        for (int i = 0; i < n; i++) {
            boolean last = i == n - 1;
            String path = "down_blocks." + i;
            Params bp = p.at(path);
            downBlocks[i] = config.downBlockTypes()[i].equals("CrossAttnDownBlock2D")
                    ? new CrossAttnDownBlock2D(bp, path, config, prev, out[i], config.attentionHeads()[i], !last)
                    : new DownBlock2D(bp, path, config, prev, out[i], !last);
            for (int j = 0; j < config.layersPerBlock() + (last ? 0 : 1); j++) skipChannels.add(out[i]);
            prev = out[i];
        }
        midBlock = new UNetMidBlock2DCrossAttn(p.at("mid_block"), "mid_block", config);

        upBlocks = new UpBlock[n];
        int layers = config.layersPerBlock() + 1;
        for (int i = 0; i < n; i++) {
            boolean last = i == n - 1;
            int cout = out[n - 1 - i];
            int[] skips = new int[layers];
            for (int j = 0; j < layers; j++) skips[j] = skipChannels.remove(skipChannels.size() - 1);
            String path = "up_blocks." + i;
            Params bp = p.at(path);
            upBlocks[i] = config.upBlockTypes()[i].equals("CrossAttnUpBlock2D")
                    ? new CrossAttnUpBlock2D(bp, path, config, prev, cout, skips, config.upHeads(i), !last)
                    : new UpBlock2D(bp, path, config, prev, cout, skips, !last);
            prev = cout;
        }
        normOutW = p.get("conv_norm_out.weight", c0);
        normOutB = p.get("conv_norm_out.bias", c0);
        convOutW = p.get("conv_out.weight", config.outChannels(), c0, 3, 3);
        convOutB = p.get("conv_out.bias", config.outChannels());
        if (groups <= 0 || c0 % groups != 0) {
            throw new IllegalArgumentException("norm_num_groups " + groups + " does not divide " + c0);
        }
    }

    /**
     * ND4J returns an array's native buffer only when its Java object is garbage-collected; the blocks free their
     * own dead activations, but temporaries inside ND4J and nn (attention head splits, score buffers dropped from
     * the cache, dense copies) stay until a GC, and a UNet run's tiny Java heap never triggers one. Measured at
     * latent 32×74: peak RSS weights + 4 GB without this, weights + 0.9 GB with it; a GC of the small heap costs
     * milliseconds against seconds per block at real size, and is skipped below this many sample values.
     */
    private static final long GC_MIN_SAMPLE = 1 << 14;

    /** Whether the last evaluation was large enough for its dead activations to be worth a collection. */
    private volatile boolean collect;

    private static void collectGarbage() {
        System.gc();
    }

    /**
     * Gives back the memory of finished evaluations (their dead activations and ND4J temporaries) after a real-size
     * evaluation; a denoising loop calls it after every step.
     */
    public void releaseScratch() {
        if (collect) collectGarbage();
    }

    /**
     * {@link #releaseScratch()} plus the attention score buffers this thread keeps for the next evaluation (up to
     * 256 MB): call it when no evaluation follows.
     */
    public void releaseBuffers() {
        Attention.releaseBuffers();
        collectGarbage();
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
        int batch = (int) sample.size(0);
        if (config.centerInputSample()) sample = sample.mul(2.0).subi(1.0);
        INDArray temb = timeEmbedding.forward(timestep, batch, trace);
        // every resnet applies SiLU to temb first: compute it once
        INDArray tembSilu = NN.silu(temb);

        INDArray h = NN.conv2d(sample, convInW, convInB, 1, 1);
        trace.record("conv_in.out", h);
        List<INDArray> skips = new ArrayList<>();
        skips.add(h);
        // a GC costs ~10-50 ms: worth it between blocks of a real-size latent, not at golden-test sizes
        collect = sample.length() >= GC_MIN_SAMPLE;
        for (DownBlock b : downBlocks) {
            h = b.forward(h, tembSilu, cond, skips, trace);
            if (collect) collectGarbage();
        }
        h = midBlock.forward(h, tembSilu, cond, trace);
        for (UpBlock b : upBlocks) {
            h = b.forward(h, tembSilu, cond, skips, trace);
            if (collect) collectGarbage();
        }

        INDArray n = NN.groupNorm(h, config.normNumGroups(), normOutW, normOutB, config.normEps());
        Ops.free(h);
        trace.record("conv_norm_out.out", n);
        NN.siluInPlace(n);
        INDArray out = NN.conv2d(n, convOutW, convOutB, 1, 1);
        Ops.free(n);
        trace.record("conv_out.out", out);
        return out;
    }

    /**
     * Every tensor this UNet reads, with its shape, in the order it asks for them: the checkpoint layout for
     * {@code config} (used to make random-weight models).
     */
    public static java.util.Map<String, long[]> parameterShapes(UNetConfig config) {
        Weights w = Weights.of(io.github.v2a4j.io.MapSource.empty(), "");
        new UNet(config, Params.of(w));
        return w.requested();
    }
}
