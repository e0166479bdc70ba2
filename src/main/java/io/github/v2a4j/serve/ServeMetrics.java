package io.github.v2a4j.serve;

import io.github.v2a4j.pipeline.Stage;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.ToDoubleFunction;

/**
 * The service's meters, scraped at {@code /metrics} in the Prometheus text format: queue depth, jobs by state,
 * submissions and rejections, run and stage durations, and the process's resident memory (current and peak).
 */
final class ServeMetrics {

    final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

    ServeMetrics() {
        new JvmMemoryMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        Gauge.builder("process.resident.memory", () -> procStatusBytes("VmRSS:")).baseUnit("bytes")
                .description("Resident set size of the process (Linux /proc/self/status VmRSS)").register(registry);
        Gauge.builder("process.resident.memory.peak", () -> procStatusBytes("VmHWM:")).baseUnit("bytes")
                .description("Peak resident set size of the process (VmHWM)").register(registry);
    }

    /** Gauges read from the service at each scrape. */
    void bind(JobService service) {
        Gauge.builder("v2a.queue.depth", service, s -> s.queued()).description("Jobs waiting to run")
                .register(registry);
        for (JobState state : JobState.values()) {
            ToDoubleFunction<JobService> count = s -> s.count(state);
            Gauge.builder("v2a.jobs", service, count).tag("state", state.id())
                    .description("Jobs known to the service, by state").register(registry);
        }
    }

    void submitted() {
        Counter.builder("v2a.jobs.submitted").description("Jobs accepted").register(registry).increment();
    }

    /** A submission turned away: queue_full, too_large, bad_request, unauthorized, shutting_down, no_space. */
    void rejected(String reason) {
        Counter.builder("v2a.jobs.rejected").tag("reason", reason).description("Submissions turned away")
                .register(registry).increment();
    }

    void finished(JobState state, Duration run) {
        Counter.builder("v2a.jobs.finished").tag("state", state.id()).description("Jobs that ended, by how")
                .register(registry).increment();
        Timer.builder("v2a.job.run").description("Run time of a job, start to end").register(registry).record(run);
    }

    void waited(Duration wait) {
        Timer.builder("v2a.job.wait").description("Time from acceptance to the start of a run").register(registry)
                .record(wait);
    }

    void stage(Stage stage, Duration took) {
        Timer.builder("v2a.stage").tag("stage", JobStatus.stageId(stage)).description("Duration of a pipeline stage")
                .register(registry).record(took);
    }

    String scrape() {
        return registry.scrape();
    }

    /** A {@code kB} line of {@code /proc/self/status} in bytes; NaN where there is none (not Linux). */
    static double procStatusBytes(String key) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(key)) {
                    return Long.parseLong(line.substring(key.length()).replace("kB", "").strip()) * 1024.0;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return Double.NaN;
        }
        return Double.NaN;
    }
}
