package io.github.v2a4j.cli;

import io.github.v2a4j.golden.Validator;
import java.util.List;

/** Every validator {@code v2a validate} knows, one per upstream component. */
final class Validators {

    private Validators() {}

    /** Add a component's validator here, one line each (e.g. {@code new UnetValidator(),}). */
    static List<Validator> all() {
        return List.of(
                new io.github.v2a4j.cogvlm.CogVlmValidator(),
                new io.github.v2a4j.cogvlm.CogVlmValidator.Preprocess()
        );
    }
}
