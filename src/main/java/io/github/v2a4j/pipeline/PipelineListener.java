package io.github.v2a4j.pipeline;

import java.time.Duration;

/** Progress of a generation. Calls arrive on the generating thread; keep them cheap. */
public interface PipelineListener {

    PipelineListener NONE = new PipelineListener() {};

    /** A stage begins; {@code units} is how many {@link #progress} steps it will report (1 if it reports none). */
    default void started(Stage stage, int units) {}

    /** {@code done} of the stage's units are finished. */
    default void progress(Stage stage, int done, int units) {}

    /** A stage ended after {@code took}; skipped stages (a cached black-video embedding) report zero. */
    default void finished(Stage stage, Duration took) {}
}
