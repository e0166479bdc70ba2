package io.github.v2a4j.vae;

import io.github.v2a4j.io.TensorSource;
import io.github.v2a4j.nn.Attention;
import io.github.v2a4j.nn.NN;
import io.github.v2a4j.nn.Trace;
import io.github.v2a4j.nn.Weights;
import java.util.ArrayList;
import java.util.LinkedHashMap;
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
        this.config = config;
        Weights w = Weights.of(new DecoderCheckpoint(checkpoint), "");
        int[] ch = config.blockOutChannels();
        int top = ch[ch.length - 1];
        int groups = config.normNumGroups();
        int latent = config.latentChannels();
        this.postQuantConv = config.usePostQuantConv() ? new Conv2d(w, "post_quant_conv", latent, latent, 1) : null;
        this.convIn = new Conv2d(w, "decoder.conv_in", latent, top, 3);
        this.midBlock = new VaeMidBlock(w, "decoder.mid_block", top, groups, config.midBlockAddAttention());
        int prev = top;
        for (int i = 0; i < ch.length; i++) {
            int out = ch[ch.length - 1 - i];
            upBlocks.add(new UpDecoderBlock(w, "decoder.up_blocks." + i, prev, out, config.layersPerBlock() + 1,
                    groups, i < ch.length - 1));
            prev = out;
        }
        this.convNormOut = new GroupNorm(w, "decoder.conv_norm_out", ch[0], groups, VaeResnetBlock.EPS);
        this.convOut = new Conv2d(w, "decoder.conv_out", ch[0], config.outChannels(), 3);
        w.verify(true);
    }

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
        try (Buffers.Pool pool = Buffers.open()) {
            return decodeChannelsLast(latents, trace);
        }
    }

    /** Gives back the attention score buffers this thread keeps after a decode: call it when no decode follows. */
    public void releaseBuffers() {
        Attention.releaseBuffers();
    }

    private INDArray decodeChannelsLast(INDArray latents, Trace trace) {
        INDArray scaled = latents.castTo(DataType.FLOAT).div(config.scalingFactor());
        INDArray z = consume(scaled, Layout.toChannelsLast(scaled));
        if (postQuantConv != null) z = consume(z, postQuantConv.forward(z, trace));
        Layout.record(trace, "decoder.in.0", z);
        INDArray h = consume(z, convIn.forward(z, trace));
        h = midBlock.forward(h, trace);
        for (UpDecoderBlock block : upBlocks) h = block.forward(h, trace);
        convNormOut.normSilu(h, true, trace);
        INDArray out = consume(h, convOut.forward(h, trace));
        INDArray image = consume(out, Layout.toChannelsFirst(out));
        trace.record("decoder.out", image);
        return image;
    }

    private static INDArray consume(INDArray dead, INDArray next) {
        Buffers.release(dead);
        return next;
    }

    /**
     * Every decoder tensor name with its shape for {@code config}, in the layout of a diffusers checkpoint (current
     * attention names). Used to make random-weight decoders (benchmark, tests); a test checks it against the model.
     */
    public static Map<String, long[]> parameterShapes(VaeConfig config) {
        Map<String, long[]> p = new LinkedHashMap<>();
        int[] ch = config.blockOutChannels();
        int top = ch[ch.length - 1];
        int latent = config.latentChannels();
        if (config.usePostQuantConv()) conv(p, "post_quant_conv", latent, latent, 1);
        conv(p, "decoder.conv_in", latent, top, 3);
        resnet(p, "decoder.mid_block.resnets.0", top, top);
        if (config.midBlockAddAttention()) {
            String a = "decoder.mid_block.attentions.0";
            norm(p, a + ".group_norm", top);
            for (String proj : new String[] {"to_q", "to_k", "to_v", "to_out.0"}) {
                p.put(a + "." + proj + ".weight", new long[] {top, top});
                p.put(a + "." + proj + ".bias", new long[] {top});
            }
        }
        resnet(p, "decoder.mid_block.resnets.1", top, top);
        int prev = top;
        for (int i = 0; i < ch.length; i++) {
            int out = ch[ch.length - 1 - i];
            for (int j = 0; j <= config.layersPerBlock(); j++) {
                resnet(p, "decoder.up_blocks." + i + ".resnets." + j, j == 0 ? prev : out, out);
            }
            if (i < ch.length - 1) conv(p, "decoder.up_blocks." + i + ".upsamplers.0.conv", out, out, 3);
            prev = out;
        }
        norm(p, "decoder.conv_norm_out", ch[0]);
        conv(p, "decoder.conv_out", ch[0], config.outChannels(), 3);
        return p;
    }

    private static void resnet(Map<String, long[]> p, String path, int cin, int cout) {
        norm(p, path + ".norm1", cin);
        conv(p, path + ".conv1", cin, cout, 3);
        norm(p, path + ".norm2", cout);
        conv(p, path + ".conv2", cout, cout, 3);
        if (cin != cout) conv(p, path + ".conv_shortcut", cin, cout, 1);
    }

    private static void conv(Map<String, long[]> p, String path, int cin, int cout, int k) {
        p.put(path + ".weight", new long[] {cout, cin, k, k});
        p.put(path + ".bias", new long[] {cout});
    }

    private static void norm(Map<String, long[]> p, String path, int c) {
        p.put(path + ".weight", new long[] {c});
        p.put(path + ".bias", new long[] {c});
    }
}
