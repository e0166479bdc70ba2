package io.github.v2a4j.unet;

import io.github.v2a4j.golden.Comparison;
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

    @Override
    public String component() {
        return "unet/K4 UNet2DConditionModel (diffusers 0.31)";
    }

    @Override
    public ComparisonReport validate(GoldenBundle bundle) {
        UNetConfig config = UNetConfig.fromJson(bundle.config());
        UNet unet = UNet.load(config, bundle.weights());
        Safetensors io = bundle.io();
        Trace trace = Trace.all();
        INDArray out = unet.forward(io.mapped("sample"), io.loadLong("timestep")[0],
                io.mapped("encoder_hidden_states"), io.mapped("image_embeds"), trace);
        return Comparison.of(bundle).compare(trace.recorded(), Map.of("out", out));
    }
}
