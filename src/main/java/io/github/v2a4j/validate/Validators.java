package io.github.v2a4j.validate;

import io.github.v2a4j.golden.Validator;
import java.util.List;

/**
 * Every validator {@code v2a validate} knows, one per upstream component. Validators sit above the models: each
 * builds its component from a golden bundle's config and weights, runs it, and compares what it reported.
 */
public final class Validators {

    private Validators() {}

    /** Add a component's validator here, one line each. */
    public static List<Validator> all() {
        return List.of(
                new UNetValidator(),
                new SchedulerValidator(),
                new VaeValidator(),
                new CogVlmValidator(),
                new CogVlmValidator.Preprocess(),
                new GoldenAudioValidator(),
                new GoldenAudioForwardValidator(),
                new EndToEndValidator()
        );
    }

    /**
     * The validator of {@code component} among {@code validators}: an exact match wins over a prefix match
     * ({@code "unet"} for {@code "unet/K4 UNet2DConditionModel ..."}); null if none handles it.
     */
    public static Validator find(List<Validator> validators, String component) {
        for (Validator v : validators) if (v.component().equals(component)) return v;
        for (Validator v : validators) if (v.accepts(component)) return v;
        return null;
    }
}
