package io.github.v2a4j.cli;

import io.github.v2a4j.audio.GoldenAudioForwardValidator;
import io.github.v2a4j.audio.GoldenAudioValidator;
import io.github.v2a4j.cogvlm.CogVlmValidator;
import io.github.v2a4j.diffusion.PndmValidator;
import io.github.v2a4j.golden.Validator;
import io.github.v2a4j.pipeline.EndToEndValidator;
import io.github.v2a4j.unet.UNetValidator;
import io.github.v2a4j.vae.VaeValidator;
import java.util.List;

/** Every validator {@code v2a validate} knows, one per upstream component. */
final class Validators {

    private Validators() {}

    /** Add a component's validator here, one line each. */
    static List<Validator> all() {
        return List.of(
                new UNetValidator(),
                new PndmValidator(),
                new VaeValidator(),
                new CogVlmValidator(),
                new CogVlmValidator.Preprocess(),
                new GoldenAudioValidator(),
                new GoldenAudioForwardValidator(),
                new EndToEndValidator()
        );
    }
}
