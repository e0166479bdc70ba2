package io.github.v2a4j.diffusion;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.Test;

/** The registry: a model's scheduler_config.json picks the scheduler, a name overrides it (the bundles check values). */
class SchedulersTest {

    /** K4's scheduler_config.json (SD-1.x PNDM). */
    static final JsonObject K4 = JsonParser.parseString("""
            {"_class_name": "PNDMScheduler", "beta_end": 0.012, "beta_schedule": "scaled_linear",
             "beta_start": 0.00085, "num_train_timesteps": 1000, "set_alpha_to_one": false, "skip_prk_steps": true,
             "steps_offset": 1, "timestep_spacing": "leading", "trained_betas": null}""").getAsJsonObject();

    @Test
    void theConfigsClassNameChoosesAndANameOverrides() {
        assertThat(Schedulers.create(K4, null)).isInstanceOf(PndmScheduler.class);
        Scheduler ddim = Schedulers.create(K4, "ddim");
        assertThat(ddim).isInstanceOf(DdimScheduler.class);
        assertThat(Schedulers.create(K4, "DDIMScheduler").name()).isEqualTo("DDIMScheduler");
        // from_config: the PNDM config's keys are taken, DDIM's own keys keep DDIM's defaults
        DdimScheduler.Config c = ((DdimScheduler) ddim).config();
        assertThat(c.setAlphaToOne()).isFalse();
        assertThat(c.stepsOffset()).isEqualTo(1);
        assertThat(c.clipSample()).isTrue();
        ddim.setTimesteps(50);
        assertThat(ddim.timesteps()).hasSize(50).startsWith(981, 961).endsWith(21, 1);
        assertThat(ddim.alphasCumprod()).containsExactly(Schedulers.create(K4, null).alphasCumprod());
    }

    @Test
    void unknownNamesAreErrorsListingTheKnownOnes() {
        assertThatThrownBy(() -> Schedulers.create(K4, "euler"))
                .hasMessage("unknown scheduler 'euler' (known: PNDMScheduler, DDIMScheduler)");
        JsonObject noName = K4.deepCopy();
        noName.remove("_class_name");
        assertThatThrownBy(() -> Schedulers.create(noName, null)).hasMessageContaining("no _class_name");
        JsonObject thresholding = K4.deepCopy();
        thresholding.addProperty("thresholding", true);
        assertThatThrownBy(() -> Schedulers.create(thresholding, "ddim")).hasMessageContaining("not supported");
    }
}
