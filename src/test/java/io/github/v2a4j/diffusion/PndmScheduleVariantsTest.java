package io.github.v2a4j.diffusion;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Config variants the golden bundles do not cover (K4 uses scaled_linear / leading / skip_prk). Expected values were
 * printed by diffusers 0.31 PNDMScheduler on torch 1.13 (reference env): {@code PNDMScheduler(beta_schedule=...,
 * skip_prk_steps=..., timestep_spacing=..., steps_offset=0).set_timesteps(30)} (and {@code set_timesteps(1)});
 * float tables compared exactly.
 */
class PndmScheduleVariantsTest {

    @ParameterizedTest
    @CsvSource(delimiter = ';', value = {
        "linspace;true;999, 965, 965, 930, 896, 861, 827, 792, 758, 723, 689, 655, 620, 586, 551, 517, 482, 448, 413, 379, 344, 310, 276, 241, 207, 172, 138, 103, 69, 34, 0",
        "linspace;false;999, 981, 981, 965, 965, 946, 946, 930, 930, 912, 912, 896, 896, 861, 827, 792, 758, 723, 689, 655, 620, 586, 551, 517, 482, 448, 413, 379, 344, 310, 276, 241, 207, 172, 138, 103, 69, 34, 0",
        "trailing;true;999, 966, 966, 932, 899, 866, 832, 799, 766, 732, 699, 666, 632, 599, 566, 532, 499, 466, 432, 399, 366, 332, 299, 266, 232, 199, 166, 132, 99, 66, 32",
        "trailing;false;999, 982, 982, 966, 966, 948, 948, 932, 932, 915, 915, 899, 899, 866, 832, 799, 766, 732, 699, 666, 632, 599, 566, 532, 499, 466, 432, 399, 366, 332, 299, 266, 232, 199, 166, 132, 99, 66, 32",
        "leading;true;957, 924, 924, 891, 858, 825, 792, 759, 726, 693, 660, 627, 594, 561, 528, 495, 462, 429, 396, 363, 330, 297, 264, 231, 198, 165, 132, 99, 66, 33, 0",
        "leading;false;957, 940, 940, 924, 924, 907, 907, 891, 891, 874, 874, 858, 858, 825, 792, 759, 726, 693, 660, 627, 594, 561, 528, 495, 462, 429, 396, 363, 330, 297, 264, 231, 198, 165, 132, 99, 66, 33, 0",
    })
    void timestepsOfEverySpacing(String spacing, boolean skipPrk, String expected) {
        PndmScheduler s = new PndmScheduler(new PndmScheduler.Config(1000, 0.0001, 0.02, "linear", null, skipPrk,
                false, "epsilon", spacing, 0));
        s.setTimesteps(30);
        int[] want = java.util.Arrays.stream(expected.split(",")).map(String::trim).mapToInt(Integer::parseInt).toArray();
        assertThat(s.timesteps()).containsExactly(want);
    }

    /** {@code set_timesteps(1)} with skip_prk_steps: {@code _timesteps[-2:-1]} is empty, so one timestep, once. */
    @ParameterizedTest
    @CsvSource({"linspace, 0", "leading, 0", "trailing, 999"})
    void oneStep(String spacing, int expected) {
        PndmScheduler s = new PndmScheduler(new PndmScheduler.Config(1000, 0.0001, 0.02, "linear", null, true,
                false, "epsilon", spacing, 0));
        s.setTimesteps(1);
        assertThat(s.timesteps()).containsExactly(expected);
    }

    @Test
    void betaTablesOfTheOtherSchedules() {
        PndmScheduler cos = new PndmScheduler(new PndmScheduler.Config(1000, 0.0001, 0.02, "squaredcos_cap_v2", null,
                false, false, "epsilon", "leading", 0));
        float[] b = cos.betas();
        assertThat(new float[]{b[0], b[1], b[500], b[998], b[999]}).containsExactly(
                (float) 4.128422369831242e-05, (float) 4.614175122696906e-05, (float) 0.003155691549181938,
                (float) 0.7499994039535522, (float) 0.9990000128746033);
        float[] ac = cos.alphasCumprod();
        assertThat(new float[]{ac[0], ac[999]}).containsExactly((float) 0.9999586939811707, (float) 2.4287349909002387e-09);

        float[] lin = new PndmScheduler(PndmScheduler.Config.defaults()).betas();
        assertThat(new float[]{lin[0], lin[1], lin[333], lin[500], lin[501], lin[999]}).containsExactly(
                (float) 9.999999747378752e-05, (float) 0.00011991991777904332, (float) 0.006733333691954613,
                (float) 0.010059960186481476, (float) 0.010079880245029926, (float) 0.019999999552965164);
    }
}
