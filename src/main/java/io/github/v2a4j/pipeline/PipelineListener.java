package io.github.v2a4j.pipeline;

import java.time.Duration;

/**
 * Progress of a generation. Calls arrive on the generating thread; keep them cheap. No stage runs longer than about
 * a minute at real size without a {@link #progress} call: the CogVLM2 passes report every layer, denoising every
 * step.
 */
public interface PipelineListener {

    PipelineListener NONE = new PipelineListener() {};

    /** A stage begins; {@code units} is how many {@link #progress} calls it will make (1 if it makes none). */
    default void started(Stage stage, int units) {}

    /**
     * {@code done} of the stage's {@code units} are finished; {@code detail} names the unit just finished
     * ({@code "vision layer 3/63"}, {@code "adapter"}, {@code "decoder layer 7/31"}, {@code "step 12/51"}).
     */
    default void progress(Stage stage, int done, int units, String detail) {}

    /** A stage ended after {@code took}; skipped stages (a cached black-video embedding) report zero. */
    default void finished(Stage stage, Duration took) {}

    /**
     * One latent window's share of a stage, told before the stage's {@link #finished}: its CogVLM2 video pass
     * ({@link Stage#ENCODE_VIDEO}) or its guided UNet evaluations summed over every step ({@link Stage#DENOISE}).
     *
     * @param window  from 1
     * @param windows windows of this generation
     * @param fromSec where the window's stretch of sound starts, in seconds
     * @param toSec   where it ends
     */
    default void window(Stage stage, int window, int windows, double fromSec, double toSec, Duration took) {}

    /** One listener that tells each of {@code listeners}, in order (a progress display and a profile, say). */
    static PipelineListener all(PipelineListener... listeners) {
        PipelineListener[] each = listeners.clone();
        return new PipelineListener() {
            @Override
            public void started(Stage stage, int units) {
                for (PipelineListener l : each) l.started(stage, units);
            }

            @Override
            public void progress(Stage stage, int done, int units, String detail) {
                for (PipelineListener l : each) l.progress(stage, done, units, detail);
            }

            @Override
            public void finished(Stage stage, Duration took) {
                for (PipelineListener l : each) l.finished(stage, took);
            }

            @Override
            public void window(Stage stage, int window, int windows, double fromSec, double toSec, Duration took) {
                for (PipelineListener l : each) l.window(stage, window, windows, fromSec, toSec, took);
            }
        };
    }
}
