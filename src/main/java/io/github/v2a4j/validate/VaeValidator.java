package io.github.v2a4j.validate;

import io.github.v2a4j.vae.VaeImageProcessor;
import io.github.v2a4j.vae.VaeDecoder;
import io.github.v2a4j.vae.VaeConfig;
import io.github.v2a4j.golden.Bf16Reference;
import io.github.v2a4j.golden.BundleException;
import io.github.v2a4j.golden.Comparison;
import io.github.v2a4j.golden.ComparisonReport;
import io.github.v2a4j.golden.GoldenBundle;
import io.github.v2a4j.golden.Tolerance;
import io.github.v2a4j.golden.Validator;
import io.github.v2a4j.nn.Precision;
import io.github.v2a4j.nn.Trace;
import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@code v2a validate} for VAE bundles (reference-tests/dump_vae.py): decodes the bundle's {@code latents} with its
 * weights, compares every recorded module, then {@code sample}, {@code image_np} and the uint8 {@code image}
 * postprocessed from the Java sample.
 */
public final class VaeValidator implements Validator {

    public static final String COMPONENT =
            "vae/AutoencoderKL decoder + VaeImageProcessor.postprocess (diffusers 0.31)";

    /** The decoder output after 30 layers, each with fp32 rounding differences of ~1e-6 (the bundle's hint). */
    static final Tolerance SAMPLE = new Tolerance(1e-4, "end to end from the latents: 30 fp32 layers of rounding");

    @Override
    public String component() {
        return COMPONENT;
    }

    @Override
    public ComparisonReport validate(GoldenBundle bundle) {
        return validate(bundle, Precision.FP32);
    }

    /**
     * bf16: every recorded tensor and output judged against the original code's own bf16 decode of the same case
     * (bf16_reference.json beside the bundle), as the UNet and CogVLM2 rows are.
     */
    @Override
    public ComparisonReport validate(GoldenBundle bundle, Precision precision) {
        if (bundle.weights() == null) throw new BundleException(bundle.dir() + ": VAE bundle has no weights.safetensors");
        if (!bundle.io().contains("latents")) throw new BundleException(bundle.dir() + ": io.safetensors has no latents");
        VaeConfig config = VaeConfig.parse(bundle.config().toString());
        VaeDecoder vae = new VaeDecoder(config, bundle.weights(), precision);
        Trace trace = Trace.all();
        INDArray sample = vae.decode(bundle.io().loadFloat("latents"), trace);

        Map<String, INDArray> outputs = new LinkedHashMap<>();
        outputs.put("sample", sample);
        VaeImageProcessor.Rgb rgb = VaeImageProcessor.postprocess(sample);
        long[] nhwc = {1, rgb.height(), rgb.width(), 3};
        outputs.put("image_np", Nd4j.createFromArray(VaeImageProcessor.denormalizeToHwc(sample)).reshape(nhwc));
        int[] levels = new int[rgb.hwc().length];
        for (int i = 0; i < levels.length; i++) levels[i] = rgb.hwc()[i] & 0xff;
        outputs.put("image", Nd4j.createFromArray(levels).reshape(nhwc));

        if (precision == Precision.BF16) {
            ComparisonReport report = Comparison.of(bundle).tolerance(Bf16Reference.read(bundle.dir())::get)
                    .compare(trace.recorded(), outputs);
            return Bf16Reference.judge(report, bundle.dir());
        }
        // one uint8 level, as a fraction of the image's largest value: a value whose x·255 falls within rounding
        // noise of a .5 boundary may round the other way
        double maxLevel = bundle.io().loadFloat("image").maxNumber().doubleValue();
        Tolerance image = new Tolerance(1.0 / Math.max(maxLevel, 1),
                "uint8 from the Java sample: at most one level (x*255 on a .5 boundary)");
        return Comparison.of(bundle).tolerance(name -> switch (name) {
            case Comparison.IO_PREFIX + "sample", Comparison.IO_PREFIX + "image_np" -> SAMPLE;
            case Comparison.IO_PREFIX + "image" -> image;
            default -> Tolerance.FP32;
        }).compare(trace.recorded(), outputs);
    }
}
