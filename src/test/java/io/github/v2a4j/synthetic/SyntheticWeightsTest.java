package io.github.v2a4j.synthetic;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.github.v2a4j.cogvlm.CogVlmConfig;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** Values that any slice can make on its own, scaled like a trained model's, never denormal. */
class SyntheticWeightsTest {

    static double[] meanStd(float[] v) {
        double mean = 0, sq = 0;
        for (float x : v) mean += x / (double) v.length;
        for (float x : v) sq += (x - mean) * (x - mean) / v.length;
        return new double[] {mean, Math.sqrt(sq)};
    }

    @Test
    void aSliceIsThePartOfTheWholeAndTheSeedAndNameDecide() {
        SyntheticWeights w = new SyntheticWeights(5);
        long[] shape = {300, 700};
        float[] whole = w.tensor("a.weight", shape).data().asFloat();
        float[] slice = new float[1000];
        w.fill("a.weight", shape, 123_456, slice, 0, slice.length);
        assertThat(slice).containsExactly(Arrays.copyOfRange(whole, 123_456, 124_456));
        assertThat(new SyntheticWeights(5).tensor("a.weight", shape).data().asFloat()).containsExactly(whole);
        assertThat(new SyntheticWeights(6).tensor("a.weight", shape).data().asFloat()).isNotEqualTo(whole);
        assertThat(w.tensor("b.weight", shape).data().asFloat()).isNotEqualTo(whole);
    }

    @Test
    void scaledLikeATrainedModel() {
        SyntheticWeights w = new SyntheticWeights(1);
        double[] proj = meanStd(w.tensor("q.weight", 512, 4096).data().asFloat());
        assertThat(proj[0]).isCloseTo(0, within(1e-3));
        assertThat(proj[1]).isCloseTo(0.02, within(5e-4));
        // tiny widths keep unit gain: 1/√16
        assertThat(meanStd(w.tensor("t.weight", 4096, 16).data().asFloat())[1]).isCloseTo(0.25, within(5e-3));
        double[] norm = meanStd(w.tensor("norm1.weight", 100_000).data().asFloat());
        assertThat(norm[0]).isCloseTo(1, within(1e-3));
        assertThat(norm[1]).isCloseTo(0.02, within(5e-4));
        double[] bias = meanStd(w.tensor("q.bias", 100_000).data().asFloat());
        assertThat(bias[0]).isCloseTo(0, within(1e-3));
        assertThat(bias[1]).isCloseTo(0.01, within(3e-4));
        float[] rope = w.tensor("model.layers.0.self_attn.rotary_emb.inv_freq", 64).data().asFloat();
        assertThat(rope[0]).isEqualTo(1f);
        assertThat((double) rope[63]).isCloseTo(1 / Math.pow(CogVlmConfig.ROPE_BASE, 126 / 128.0), within(1e-12));
    }

    @Test
    void finiteBoundedAndNeverDenormal() {
        float[] v = new float[1 << 20];
        new SyntheticWeights(3).fill("x.weight", new long[] {1 << 20, 4096}, 0, v, 0, v.length);
        for (float x : v) {
            assertThat(Float.isFinite(x)).isTrue();
            assertThat(x == 0 || Math.abs(x) >= Float.MIN_NORMAL).isTrue();
            assertThat(Math.abs(x)).isLessThanOrEqualTo((float) (0.02 * Math.sqrt(6)));
        }
    }
}
