package io.github.v2a4j.serve;

import io.github.v2a4j.pipeline.Stage;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A job's state as its {@code state.json} keeps it; every change is a new value, written atomically.
 *
 * @param seq           order of acceptance: queued jobs run lowest first, across restarts too
 * @param timingsMs     wall time per stage of the finished run, by stage id ({@code denoise}, …)
 * @param attempts      how often a run started
 * @param interruptions how often the service was found to have stopped during a run of this job (a crash or kill)
 */
public record JobStatus(String id, long seq, JobState state, long createdMs, Long startedMs, Long finishedMs,
                        String error, Map<String, Long> timingsMs, Double audioSeconds, int attempts,
                        int interruptions) {

    static JobStatus queued(String id, long seq, long nowMs) {
        return new JobStatus(id, seq, JobState.QUEUED, nowMs, null, null, null, Map.of(), null, 0, 0);
    }

    JobStatus running(long nowMs) {
        return new JobStatus(id, seq, JobState.RUNNING, createdMs, nowMs, null, null, Map.of(), null, attempts + 1,
                interruptions);
    }

    JobStatus done(long nowMs, ClipGenerator.Result r) {
        Map<String, Long> t = new LinkedHashMap<>();
        r.timings().forEach((stage, d) -> t.put(stageId(stage), d.toMillis()));
        return new JobStatus(id, seq, JobState.DONE, createdMs, startedMs, nowMs, null, t, r.audioSeconds(), attempts,
                interruptions);
    }

    JobStatus failed(long nowMs, String reason) {
        return new JobStatus(id, seq, JobState.FAILED, createdMs, startedMs, nowMs, reason, Map.of(), null, attempts,
                interruptions);
    }

    JobStatus cancelled(long nowMs) {
        return new JobStatus(id, seq, JobState.CANCELLED, createdMs, startedMs, nowMs, null, Map.of(), null, attempts,
                interruptions);
    }

    /** Back in the queue to run again: after a stop ({@code interrupted} false) or a crash found at startup. */
    JobStatus requeued(boolean interrupted) {
        return new JobStatus(id, seq, JobState.QUEUED, createdMs, null, null, null, Map.of(), null, attempts,
                interruptions + (interrupted ? 1 : 0));
    }

    static String stageId(Stage s) {
        return s.name().toLowerCase(Locale.ROOT);
    }

    Duration runTime() {
        return startedMs == null || finishedMs == null ? Duration.ZERO : Duration.ofMillis(finishedMs - startedMs);
    }
}
