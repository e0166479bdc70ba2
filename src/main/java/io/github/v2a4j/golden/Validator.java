package io.github.v2a4j.golden;

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
}
