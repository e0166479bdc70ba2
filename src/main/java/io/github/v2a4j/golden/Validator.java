package io.github.v2a4j.golden;

import io.github.v2a4j.nn.Precision;

/**
 * Runs the Java implementation of one upstream component on a golden bundle's inputs and weights and compares what
 * it produced with the bundle. Registered in the cli's validator list, found by {@link #component()}.
 */
public interface Validator {

    /**
     * The manifest's {@code component} this validator handles: the full string the dump tool writes
     * ({@code "scheduler/PNDMScheduler"}) or the part before its first {@code /} ({@code "scheduler"}).
     */
    String component();

    /** Whether this validator handles a bundle whose manifest names {@code bundleComponent}. */
    default boolean accepts(String bundleComponent) {
        return bundleComponent.equals(component()) || bundleComponent.startsWith(component() + "/");
    }

    /**
     * Builds the component from {@code bundle.weights()} and {@code bundle.config()}, runs it on
     * {@code bundle.io()} with a recording trace, and compares (see {@link Comparison}). Throws with a one-line
     * message if the bundle does not fit the component (missing input, wrong weights).
     */
    ComparisonReport validate(GoldenBundle bundle);

    /**
     * As {@link #validate(GoldenBundle)} with the component's matrix products in {@code precision}. In bf16 a row
     * passes when it is at least as close to the fp32 reference as the original code's own bf16 run is (the bundle's
     * {@link Bf16Reference} sidecar). Components without a reduced-precision path accept fp32 only.
     */
    default ComparisonReport validate(GoldenBundle bundle, Precision precision) {
        if (precision == Precision.FP32) return validate(bundle);
        throw new IllegalArgumentException(component() + " has no " + precision.label() + " path to validate");
    }
}
