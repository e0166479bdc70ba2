package io.github.v2a4j.serve;

import io.github.v2a4j.pipeline.PipelineListener;
import io.github.v2a4j.pipeline.Stage;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.UUID;

/**
 * One job in memory: its options, its last persisted {@link JobStatus}, and what only a live run has (the stage and
 * step it is at, the stages it finished so far, whether a cancel was asked for).
 */
final class Job {

    /** The step a running job is at: {@code done} of {@code units} of {@code stage}. */
    record Progress(Stage stage, int done, int units) {}

    final UUID id;
    final JobOptions options;
    private volatile JobStatus status;
    private volatile Progress progress;
    private volatile boolean cancelRequested;
    private final Map<Stage, Duration> stagesDone = new EnumMap<>(Stage.class);

    Job(UUID id, JobOptions options, JobStatus status) {
        this.id = id;
        this.options = options;
        this.status = status;
    }

    JobStatus status() {
        return status;
    }

    void status(JobStatus s) {
        status = s;
        if (s.state() != JobState.RUNNING) progress = null;
    }

    JobState state() {
        return status.state();
    }

    long seq() {
        return status.seq();
    }

    Progress progress() {
        return progress;
    }

    boolean cancelRequested() {
        return cancelRequested;
    }

    void requestCancel() {
        cancelRequested = true;
    }

    synchronized Map<Stage, Duration> stagesDone() {
        return new EnumMap<>(stagesDone);
    }

    /** The listener a run reports to: keeps the live stage and step, and passes finished stages to {@code onStage}. */
    PipelineListener listener(java.util.function.BiConsumer<Stage, Duration> onStage) {
        synchronized (this) {
            stagesDone.clear();
        }
        return new PipelineListener() {
            @Override
            public void started(Stage stage, int units) {
                progress = new Progress(stage, 0, units);
            }

            @Override
            public void progress(Stage stage, int done, int units, String detail) {
                progress = new Progress(stage, done, units);
            }

            @Override
            public void finished(Stage stage, Duration took) {
                synchronized (Job.this) {
                    stagesDone.put(stage, took);
                }
                onStage.accept(stage, took);
            }
        };
    }
}
