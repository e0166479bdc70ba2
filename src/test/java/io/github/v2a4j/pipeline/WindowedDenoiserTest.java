package io.github.v2a4j.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.v2a4j.diffusion.DenoiseLoop;
import io.github.v2a4j.diffusion.GuidedNoiseModel;
import io.github.v2a4j.diffusion.Schedulers;
import io.github.v2a4j.io.Safetensors;
import io.github.v2a4j.io.TensorSource;
import io.github.v2a4j.nn.Trace;
import io.github.v2a4j.synthetic.DemoModel;
import io.github.v2a4j.unet.UNet;
import io.github.v2a4j.unet.UNetConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * MultiDiffusion over latent windows with the demo model's UNet (a small latent, 8 rows, so each evaluation takes
 * milliseconds): one window is the plain guided UNet bit for bit, and with several the windows read one latent, so
 * their overlaps agree exactly after every step, and the noise the scheduler steps with is each column's weighted
 * average of the windows' predictions.
 */
class WindowedDenoiserTest {

    @TempDir
    static Path dir;

    static TensorSource weights;
    static UNet unet;
    static INDArray text;
    static INDArray black;
    static Path model;

    @BeforeAll
    static void load() throws Exception {
        model = dir.resolve("model");
        DemoModel.write(model);
        weights = Safetensors.open(model.resolve("unet"));
        unet = UNet.load(UNetConfig.read(model.resolve("unet/config.json")), weights);
        text = DenoiseLoop.randomLatents(1, 2, 100, DemoModel.HIDDEN);
        black = DenoiseLoop.randomLatents(2, 4, DemoModel.HIDDEN);
    }

    @AfterAll
    static void close() throws Exception {
        weights.close();
    }

    static INDArray video(int k) {
        return DenoiseLoop.randomLatents(10 + k, 4, DemoModel.HIDDEN);
    }

    static DenoiseLoop loop() {
        return new DenoiseLoop(Schedulers.create(
                Schedulers.readConfig(model.resolve("scheduler/scheduler_config.json")), null));
    }

    static float[] bits(INDArray a) {
        return a.dup('c').data().asFloat();
    }

    @Test
    void oneWindowIsTheGuidedUnetBitForBit() {
        INDArray x0 = DenoiseLoop.randomLatents(7, 1, 4, 8, 20);
        INDArray plain;
        try (CfgDenoiser d = new CfgDenoiser(unet, text, Nd4j.stack(0, black, video(0)), 8f, true)) {
            plain = loop().run(d, x0, 3, Trace.OFF, DenoiseLoop.StepListener.NONE, () -> false);
        }
        INDArray windowed;
        try (WindowedDenoiser d = WindowedDenoiser.guided(unet, text, black, List.of(video(0)),
                LatentWindows.plan(20, 20, 5), 8f, true, (s, k, n) -> { }, () -> false)) {
            windowed = loop().run(d, x0, 3, Trace.OFF, DenoiseLoop.StepListener.NONE, () -> false);
        }
        assertThat(bits(windowed)).containsExactly(bits(plain));
    }

    /** A window's model that keeps what it was given and what it answered. */
    static final class Recording implements GuidedNoiseModel {
        final GuidedNoiseModel inner;
        final List<INDArray> inputs = new ArrayList<>();
        final List<INDArray> outputs = new ArrayList<>();

        Recording(GuidedNoiseModel inner) {
            this.inner = inner;
        }

        @Override
        public INDArray eps(INDArray latents, int timestep, Trace trace) {
            inputs.add(latents.dup('c'));
            INDArray e = inner.eps(latents, timestep, trace);
            outputs.add(e.dup('c'));
            return e;
        }

        @Override
        public void close() {
            inner.close();
        }
    }

    static INDArray cols(INDArray x, int from, int to) {
        return x.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(from, to));
    }

    @Test
    void overlapsAgreeExactlyAfterEveryStepAndTheNoiseIsTheWeightedAverage() {
        LatentWindows w = LatentWindows.plan(50, 20, 5); // [0, 20), [15, 35), [30, 50)
        assertThat(w.count()).isEqualTo(3);
        List<Recording> models = new ArrayList<>();
        for (int k = 0; k < 3; k++) {
            models.add(new Recording(new CfgDenoiser(unet, text, Nd4j.stack(0, black, video(k)), 8f, true)));
        }
        List<String> windowsDone = new ArrayList<>();
        Trace trace = Trace.matching(List.of("scheduler.step.in.model_output", "scheduler.step.in.sample"));
        try (WindowedDenoiser d = new WindowedDenoiser(models, w, (s, k, n) -> windowsDone.add(s + ":" + k + "/" + n),
                () -> false)) {
            loop().run(d, DenoiseLoop.randomLatents(7, 1, 4, 8, 50), 4, trace, DenoiseLoop.StepListener.NONE,
                    () -> false);
        }
        int steps = 5; // PNDM: 4 steps, 5 evaluations
        assertThat(windowsDone).hasSize(3 * steps).startsWith("1:1/3", "1:2/3", "1:3/3").endsWith("5:3/3");
        List<INDArray> samples = new ArrayList<>();
        List<INDArray> noises = new ArrayList<>();
        trace.recorded().forEach((name, a) -> (name.contains("model_output") ? noises : samples).add(a));
        assertThat(samples).hasSize(steps);
        for (int s = 0; s < steps; s++) {
            // every window reads its columns of the one latent (PNDM does not scale its input), so where windows
            // overlap they read the same values: the overlaps agree exactly
            for (int k = 0; k < 3; k++) {
                assertThat(bits(models.get(k).inputs.get(s))).as("step %d window %d", s, k)
                        .containsExactly(bits(cols(samples.get(s), w.start(k), w.end(k))));
            }
            for (int k = 1; k < 3; k++) {
                int from = w.start(k);
                int to = w.end(k - 1);
                assertThat(bits(cols(models.get(k).inputs.get(s), 0, to - from))).as("overlap %d step %d", k, s)
                        .containsExactly(bits(cols(models.get(k - 1).inputs.get(s), from - w.start(k - 1), 20)));
            }
            // the scheduler's noise: per column the normalised weighted sum of the windows' predictions
            INDArray noise = noises.get(s);
            double[] want = new double[(int) noise.length()];
            double scale = 0;
            for (int k = 0; k < 3; k++) {
                float[] wk = w.weights(k);
                INDArray e = models.get(k).outputs.get(s);
                for (int c = 0; c < 4; c++) {
                    for (int r = 0; r < 8; r++) {
                        for (int j = 0; j < 20; j++) {
                            double v = e.getDouble(0, c, r, j);
                            want[(c * 8 + r) * 50 + w.start(k) + j] += wk[j] * v;
                            scale = Math.max(scale, Math.abs(v));
                        }
                    }
                }
            }
            float[] got = bits(noise);
            for (int i = 0; i < got.length; i++) {
                // two or three fp32 products and sums: within a few fp32 roundings of the largest prediction
                assertThat((double) got[i]).as("noise %d at step %d", i, s)
                        .isCloseTo(want[i], org.assertj.core.data.Offset.offset(4e-7 * scale));
            }
            // columns only the first window covers are its prediction exactly
            assertThat(bits(cols(noise, 0, 15))).containsExactly(bits(cols(models.get(0).outputs.get(s), 0, 15)));
        }
    }

    @Test
    void aCancellationStopsBetweenWindows() {
        LatentWindows w = LatentWindows.plan(50, 20, 5);
        List<INDArray> videos = List.of(video(0), video(1), video(2));
        List<String> done = new ArrayList<>();
        try (WindowedDenoiser d = WindowedDenoiser.guided(unet, text, black, videos, w, 8f, true,
                (s, k, n) -> done.add(s + ":" + k), () -> done.contains("2:1"))) {
            assertThatThrownBy(() -> loop().run(d, DenoiseLoop.randomLatents(7, 1, 4, 8, 50), 4, Trace.OFF,
                    DenoiseLoop.StepListener.NONE, () -> false))
                    .isInstanceOf(CancellationException.class).hasMessageContaining("step 2 after window 1 of 3");
        }
        assertThat(done).containsExactly("1:1", "1:2", "1:3", "2:1");
    }
}
