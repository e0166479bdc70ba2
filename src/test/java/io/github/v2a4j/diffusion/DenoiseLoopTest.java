package io.github.v2a4j.diffusion;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.v2a4j.nn.Trace;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The loop's bookkeeping with a stand-in noise model (the real UNet loop is checked against the e2e bundles). */
class DenoiseLoopTest {

    static final PndmScheduler.Config SD = new PndmScheduler.Config(1000, 0.00085, 0.012, "scaled_linear", null,
            true, false, "epsilon", "leading", 1);

    /** ε = 0.1·x + t/1000, counting its evaluations and scratch releases. */
    static final class Model implements GuidedNoiseModel {
        final List<Integer> seen = new ArrayList<>();
        int released;
        boolean closed;

        @Override
        public INDArray eps(INDArray x, int t, Trace trace) {
            seen.add(t);
            return x.mul(0.1).addi(t / 1000.0);
        }

        @Override
        public void releaseScratch() {
            released++;
        }

        @Override
        public void close() {
            closed = true;
        }
    }

    @Test
    void oneEvaluationAndOneSchedulerStepPerTimestep() {
        Model model = new Model();
        INDArray x0 = DenoiseLoop.randomLatents(42, 1, 4, 3, 5);
        List<String> steps = new ArrayList<>();
        Trace trace = Trace.matching(List.of("scheduler.step*"));
        INDArray out = new DenoiseLoop(new PndmScheduler(SD))
                .run(model, x0, 50, trace, (done, total, t) -> steps.add(done + "/" + total + "@" + t), () -> false);

        assertThat(model.seen).hasSize(51).startsWith(981, 961, 961, 941).endsWith(21, 1);
        assertThat(model.released).isEqualTo(51);
        assertThat(steps).hasSize(51).startsWith("1/51@981").endsWith("51/51@1");
        assertThat(trace.recorded()).containsKeys("scheduler.step.in.model_output", "scheduler.step.in.timestep",
                "scheduler.step.in.sample", "scheduler.step.out.0", "scheduler.step@50.out.0");

        // the same chain by hand
        PndmScheduler ref = new PndmScheduler(SD);
        ref.setTimesteps(50);
        INDArray x = x0.dup();
        for (int t : ref.timesteps()) x = ref.step(x.mul(0.1).addi(t / 1000.0), t, x);
        assertThat(out.data().asFloat()).containsExactly(x.data().asFloat());
        assertThat(trace.recorded().get("scheduler.step@50.out.0").data().asFloat()).containsExactly(x.data().asFloat());
    }

    /** A service cancels a running job: the loop stops at the next step boundary. */
    @Test
    void cancellationStopsAtAStepBoundary() {
        Model model = new Model();
        DenoiseLoop loop = new DenoiseLoop(new PndmScheduler(SD));
        assertThatThrownBy(() -> loop.run(model, DenoiseLoop.randomLatents(1, 1, 4, 3, 5), 50, Trace.OFF,
                DenoiseLoop.StepListener.NONE, () -> model.seen.size() == 7))
                .isInstanceOf(CancellationException.class).hasMessageContaining("after 7 of 51");
        assertThat(model.seen).hasSize(7);
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
