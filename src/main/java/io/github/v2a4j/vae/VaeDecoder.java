package io.github.v2a4j.vae;

import io.github.v2a4j.nn.Buffers;
import io.github.v2a4j.nn.Precision;
import io.github.v2a4j.io.MapSource;
import io.github.v2a4j.io.TensorSource;
import io.github.v2a4j.nn.Binder;
import io.github.v2a4j.nn.Trace;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The decode half of diffusers {@code AutoencoderKL} (SD-1.x) as K4 calls it:
 * {@code z = latents / scaling_factor → post_quant_conv (1×1) → decoder.conv_in → mid_block → up_blocks →
 * conv_norm_out → SiLU → conv_out}. Latent {@code [B, 4, h, w]} → image {@code [B, 3, 8h, 8w]} in about [−1, 1].
 *
 * <p>Inside, activations are channels-last ({@link Layout}): oneDNN convolves in that layout without reordering
 * its input and output. Memory: every block consumes its input, so each dead activation (300–600 MB at 512×1184) is
 * freed or overwritten as soon as possible; see {@link Buffers} and {@link FusedGroupNorm}.
 */
public final class VaeDecoder {
    private final VaeConfig config;
    private final String decoderPath;
    private final Conv2d postQuantConv;
    private final Conv2d convIn;
    private final VaeMidBlock midBlock;
    private final List<UpDecoderBlock> upBlocks = new ArrayList<>();
    private final GroupNorm convNormOut;
    private final Conv2d convOut;

    /**
     * Reads the decoder weights of {@code checkpoint} (a whole AutoencoderKL file; encoder tensors are ignored) and
     * throws one {@link IllegalArgumentException} listing every missing, mis-shaped or unexpected decoder tensor.
     */
    public VaeDecoder(VaeConfig config, TensorSource checkpoint) {
        this(config, checkpoint, Precision.FP32);
    }

    /**
     * A decoder whose convolutions, projections and attention products run in {@code precision} (bf16: operands
     * rounded to bf16, fp32 accumulation; norms, SiLU, softmax and residuals fp32). K4 decodes in fp16; bf16 has 3
     * fewer mantissa bits, so a bf16 decode is as far from the fp32 reference as the reference's own bf16 decode
     * (validated against it), not as close as K4's fp16 one.
     */
    public VaeDecoder(VaeConfig config, TensorSource checkpoint, Precision precision) {
        this(config, Binder.load(new DecoderCheckpoint(checkpoint), "VAE decoder", precision), true);
    }

    private VaeDecoder(VaeConfig config, Binder w, boolean verify) {
        this.config = config;
        int[] ch = config.blockOutChannels();
        int top = ch[ch.length - 1];
        int groups = config.normNumGroups();
        int latent = config.latentChannels();
        Binder d = w.at("decoder");
        this.decoderPath = d.path();
        this.postQuantConv = config.usePostQuantConv() ? new Conv2d(w.at("post_quant_conv"), latent, latent, 1) : null;
        this.convIn = new Conv2d(d.at("conv_in"), latent, top, 3);
        this.midBlock = new VaeMidBlock(d.at("mid_block"), top, groups, config.midBlockAddAttention());
        int prev = top;
        for (int i = 0; i < ch.length; i++) {
            int out = ch[ch.length - 1 - i];
            upBlocks.add(new UpDecoderBlock(d.at("up_blocks." + i), prev, out, config.layersPerBlock() + 1,
                    groups, i < ch.length - 1));
            prev = out;
        }
        this.convNormOut = new GroupNorm(d.at("conv_norm_out"), ch[0], groups, VaeResnetBlock.EPS);
        this.convOut = new Conv2d(d.at("conv_out"), ch[0], config.outChannels(), 3);
        if (verify) w.verify();
    }

    /**
     * Activation buffers kept between decodes (the tiles of a long clip, a service's next clip): a decode of the same
     * size then takes every buffer from here instead of page-faulting fresh memory in, which on the 2-vCPU VM of the
     * README ran at 0.5–1 GB/s and cost about 3 s of a 20 s decode.
     */
    private final Buffers.Pool scratch = Buffers.newPool(Buffers.DEFAULT_BUDGET);

    public VaeConfig config() {
        return config;
    }

    /**
     * {@code vae.decode(latents / scaling_factor)}: latents {@code [B, latent, h, w]} (not modified) → image
     * {@code [B, out, h·f, w·f]} with f = {@link VaeConfig#scaleFactor()}.
     */
    public INDArray decode(INDArray latents, Trace trace) {
        if (latents.rank() != 4 || latents.size(1) != config.latentChannels()) {
            throw new IllegalArgumentException("VAE decode: latents must be [B, " + config.latentChannels()
                    + ", h, w], got " + java.util.Arrays.toString(latents.shape()));
        }
        try (Buffers.Scope ignored = scratch.enter()) {
            return decodeChannelsLast(latents, trace);
        }
    }

    /** Frees the activation buffers kept between decodes: call it when no decode follows soon. */
    public void releaseBuffers() {
        scratch.clear();
    }

    private INDArray decodeChannelsLast(INDArray latents, Trace trace) {
        INDArray scaled = latents.castTo(DataType.FLOAT).div(config.scalingFactor());
        INDArray z = consume(scaled, Layout.toChannelsLast(scaled));
        if (postQuantConv != null) z = consume(z, postQuantConv.forward(z, trace));
        Layout.record(trace, decoderPath + ".in.0", z);
        INDArray h = consume(z, convIn.forward(z, trace));
        h = midBlock.forward(h, trace);
        for (UpDecoderBlock block : upBlocks) h = block.forward(h, trace);
        convNormOut.normSilu(h, true, trace);
        INDArray out = consume(h, convOut.forward(h, trace));
        INDArray image = consume(out, Layout.toChannelsFirst(out));
        trace.record(decoderPath + ".out", image);
        return image;
    }

    private static INDArray consume(INDArray dead, INDArray next) {
        Buffers.release(dead);
        return next;
    }

    /**
     * Every decoder tensor name with its shape for {@code config}, in the layout of a diffusers checkpoint (current
     * attention names), from a dry run of the constructor (no tensor is allocated).
     */
    public static Map<String, long[]> parameterShapes(VaeConfig config) {
        Binder b = Binder.check(MapSource.empty(), "VAE decoder");
        new VaeDecoder(config, b, false);
        return b.parameters();
    }
}
