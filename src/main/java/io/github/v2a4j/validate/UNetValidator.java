package io.github.v2a4j.validate;

import io.github.v2a4j.unet.UNetConfig;
import io.github.v2a4j.unet.UNet;
import io.github.v2a4j.golden.Bf16Reference;
import io.github.v2a4j.golden.Comparison;
import io.github.v2a4j.nn.Precision;
import io.github.v2a4j.golden.ComparisonReport;
import io.github.v2a4j.golden.GoldenBundle;
import io.github.v2a4j.golden.Validator;
import io.github.v2a4j.io.Safetensors;
import io.github.v2a4j.nn.Trace;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@code v2a validate} for UNet bundles (reference-tests/dump_unet.py): one CFG-style call (batch 2) of the K4 UNet,
 * every module output this port records compared with the upstream activations, chained from the UNet input, and
 * the output with io {@code out}. Tolerance {@link io.github.v2a4j.golden.Tolerance#FP32} (1e-5 of max |ref|): both
 * sides are fp32 on CPU; measured worst 1.8e-6 on the tiny bundles.
 */
public final class UNetValidator implements Validator {

    static final String MODULE_INPUTS = "module inputs: each is the call's input or an earlier module's output, "
            + "compared there";

    /** Leaves inside resnets, transformers and resamplers; every block, attention and feed-forward is compared. */
    private static final String[] LEAF_LAYERS = {
        "*.resnets.*.norm1.out", "*.resnets.*.conv1.out", "*.resnets.*.time_emb_proj.out", "*.resnets.*.norm2.out",
        "*.resnets.*.conv2.out", "*.resnets.*.conv_shortcut.out", "*.attentions.*.proj_in.out",
        "*.attentions.*.proj_out.out", "*.attn?.to_q.out", "*.attn?.to_k.out", "*.attn?.to_v.out",
        "*.attn2.to_out.0.out", "*.attn1.processor.video_?.out", "*.ff.net.0.proj.out", "*.ff.net.2.out",
        "*samplers.0.conv.out"};

    @Override
    public String component() {
        return "unet/K4 UNet2DConditionModel (diffusers 0.31)";
    }

    @Override
    public ComparisonReport validate(GoldenBundle bundle) {
        return validate(bundle, Precision.FP32);
    }

    @Override
    public ComparisonReport validate(GoldenBundle bundle, Precision precision) {
        UNetConfig config = UNetConfig.fromJson(bundle.config());
        UNet unet = UNet.load(config, bundle.weights(), precision);
        Safetensors io = bundle.io();
        Trace trace = Trace.all();
        INDArray out = unet.forward(io.mapped("sample"), io.loadLong("timestep")[0],
                io.mapped("encoder_hidden_states"), io.mapped("image_embeds"), trace);
        Comparison c = Comparison.of(bundle);
        if (precision == Precision.BF16) c.tolerance(Bf16Reference.read(bundle.dir())::get);
        ComparisonReport report = c
                .notProduced(MODULE_INPUTS, "*.in.*")
                .notProduced("leaf layers v2a4j runs inside their block (fused norm/conv/linear): the block's "
                        + "output is compared", LEAF_LAYERS)
                .compare(trace.recorded(), Map.of("out", out));
        return precision == Precision.BF16 ? Bf16Reference.judge(report, bundle.dir()) : report;
    }
}
