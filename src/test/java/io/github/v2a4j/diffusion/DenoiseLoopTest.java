package io.github.v2a4j.diffusion;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The loop's bookkeeping with a stand-in noise model (the real UNet loop is checked against e2e bundles). */
class DenoiseLoopTest {

    @Test
    void runsOneGuidedEvaluationPerTimestepAndStepsTheScheduler() {
        PndmScheduler.Config sd = new PndmScheduler.Config(1000, 0.00085, 0.012, "scaled_linear", null, true, false,
                "epsilon", "leading", 1);
        List<Integer> seen = new ArrayList<>();
        List<Boolean> modes = new ArrayList<>();
        // ε_u = 0.1·x, ε_c = 0.2·x + t/1000: guided = ε_u + 8(ε_c − ε_u)
        GuidedNoiseModel model = (x, t, oneBatch) -> {
            seen.add(t);
            modes.add(oneBatch);
            return new INDArray[]{x.mul(0.1), x.mul(0.2).addi(t / 1000.0)};
        };
        INDArray x0 = DenoiseLoop.randomLatents(42, 1, 4, 3, 5);
        List<Integer> steps = new ArrayList<>();
        INDArray out = new DenoiseLoop(new PndmScheduler(sd), model, 8f, false)
                .run(x0, 50, (i, total, t, s) -> steps.add(i));

        assertThat(seen).hasSize(51).startsWith(981, 961, 961, 941).endsWith(21, 1);
        assertThat(modes).containsOnly(false);
        assertThat(steps).hasSize(51);

        // the same chain by hand
        PndmScheduler ref = new PndmScheduler(sd);
        ref.setTimesteps(50);
        INDArray x = x0.dup();
        for (int t : ref.timesteps()) {
            INDArray eu = x.mul(0.1), ec = x.mul(0.2).addi(t / 1000.0);
            x = ref.step(Guidance.combine(eu, ec, 8f), t, x);
        }
        assertThat(out.data().asFloat()).containsExactly(x.data().asFloat());
    }

    @Test
    void guidanceIsUncondPlusScaleTimesDifference() {
        INDArray u = Nd4j.createFromArray(1f, -2f), c = Nd4j.createFromArray(3f, 0.5f);
        assertThat(Guidance.combine(u, c, 8f).toFloatVector()).containsExactly(1f + 8f * 2f, -2f + 8f * 2.5f);
    }

    @Test
    void seededLatentsAreReproducibleStandardNormal() {
        INDArray a = DenoiseLoop.randomLatents(7, 1, 4, 64, 148), b = DenoiseLoop.randomLatents(7, 1, 4, 64, 148);
        assertThat(a).isEqualTo(b);
        assertThat(a.meanNumber().doubleValue()).isBetween(-0.02, 0.02);
        assertThat(a.stdNumber().doubleValue()).isBetween(0.98, 1.02);
    }
}
