package io.github.v2a4j.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.v2a4j.golden.GoldenBundle;
import io.github.v2a4j.golden.TestBundles;
import io.github.v2a4j.nn.Trace;
import io.github.v2a4j.unet.TestTensors;
import io.github.v2a4j.unet.UNet;
import io.github.v2a4j.unet.UNetConfig;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@link CfgDenoiser} against the end-to-end bundle e2e-tiny (the original Video2AudioPipeline.__call__ on tiny
 * models): every step's guided noise, fed the reference's latents of that step, with guidance as two batch-1 UNet
 * calls (the chained loop with one batch-2 call runs in EndToEndGoldenTest).
 *
 * <p>Tolerance 1e-5 of max |ref|: fp32 on both sides, GEMM summation order only (measured 2.0e-6).
 */
class DenoiseGoldenTest {

    @Test
    void guidedNoiseOfEveryStepFedTheGoldenLatents() {
        try (GoldenBundle b = GoldenBundle.open(TestBundles.committed("e2e-tiny"))) {
            UNet unet = UNet.load(UNetConfig.fromJson(b.config().getAsJsonObject("unet")),
                    new io.github.v2a4j.io.PrefixedSource(b.weights(), "unet."));
            long[] ts = b.io().loadLong("timesteps");
            double worst = 0;
            try (CfgDenoiser model = new CfgDenoiser(unet, b.activation("_encode_conditions.out.0"),
                    b.activation("_encode_conditions.out.1"), 8f, false)) {
                for (int k = 0; k < ts.length; k++) {
                    String s = k == 0 ? "scheduler.step" : "scheduler.step@" + k;
                    INDArray eps = model.eps(b.activation(s + ".in.sample"), (int) ts[k], Trace.OFF);
                    double err = TestTensors.relErr(eps, b.activation(s + ".in.model_output"));
                    worst = Math.max(worst, err);
                    assertThat(err).as("guided noise of call %d (t=%d)", k, ts[k]).isLessThanOrEqualTo(1e-5);
                }
            }
            System.out.printf("e2e-tiny guided noise fed golden latents: worst %.3g over %d calls%n", worst, ts.length);
        }
    }
}
