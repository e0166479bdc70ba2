package io.github.v2a4j.diffusion;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.v2a4j.golden.TestBundles;
import io.github.v2a4j.unet.TestTensors;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * PNDM against diffusers 0.31 on torch 1.13 (bundles pndm: skip_prk_steps, 51 steps; pndm-prk: 12 Runge-Kutta + 47
 * PLMS steps). Tolerance: BIT-EXACT — tables and every step are plain fp32 arithmetic done in the same order.
 */
class PndmSchedulerTest {

    @ParameterizedTest
    @ValueSource(strings = {"pndm", "pndm-prk"})
    void matchesDiffusersBitForBit(String bundle) {
        Path dir = TestBundles.committed(bundle);
        Map<String, INDArray> io = TestTensors.read(dir.resolve("io.safetensors"));
        PndmScheduler s = new PndmScheduler(PndmScheduler.Config.read(dir.resolve("config.json")));

        assertThat(s.betas()).containsExactly(io.get("betas").toFloatVector());
        assertThat(s.alphasCumprod()).containsExactly(io.get("alphas_cumprod").toFloatVector());

        s.setTimesteps(50);
        long[] ref = io.get("timesteps").toLongVector();
        int[] ts = s.timesteps();
        assertThat(ts).hasSize(ref.length);
        for (int i = 0; i < ts.length; i++) assertThat((long) ts[i]).as("timestep %d", i).isEqualTo(ref[i]);

        INDArray sample = io.get("init_sample");
        INDArray outs = io.get("model_output"), prevs = io.get("prev_sample");
        for (int i = 0; i < ts.length; i++) {
            INDArray m = outs.get(NDArrayIndex.point(i)).dup();
            INDArray want = prevs.get(NDArrayIndex.point(i));
            INDArray got = s.step(m, ts[i], sample);
            assertThat(got.dup().data().asFloat()).as("step %d (t=%d)", i, ts[i])
                    .containsExactly(want.dup().data().asFloat());
            sample = got;
        }
    }
}
