package io.github.v2a4j.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The trace-event profile: valid JSON of the Chrome trace-event format, whatever way the run ends. */
class TraceProfileTest {

    @TempDir
    Path tmp;

    @Test
    void stagesUnitsAndMemoryCountersAsTraceEvents() throws Exception {
        Path file = tmp.resolve("p.json");
        try (TraceProfile p = new TraceProfile(file, "test")) {
            p.started(Stage.ENCODE_VIDEO, 3);
            p.progress(Stage.ENCODE_VIDEO, 1, 3, "vision layer 1/1");
            p.progress(Stage.ENCODE_VIDEO, 2, 3, "adapter");
            Thread.sleep(2 * TraceProfile.SAMPLE_MILLIS + 100);
            p.progress(Stage.ENCODE_VIDEO, 3, 3, "decoder layer 1/1");
            p.finished(Stage.ENCODE_VIDEO, Duration.ofSeconds(1));
            p.started(Stage.DENOISE, 2);
            p.progress(Stage.DENOISE, 1, 2, "step 1/2");
            p.progress(Stage.DENOISE, 2, 2, "step 2/2");
            p.finished(Stage.DENOISE, Duration.ofSeconds(1));
        }
        List<JsonObject> events = TraceEvents.valid(file);
        assertThat(events).filteredOn(e -> e.get("ph").getAsString().equals("M")).extracting(e -> e.get("name").getAsString())
                .contains("process_name", "thread_name");
        assertThat(events).filteredOn(e -> e.get("ph").getAsString().equals("X"))
                .extracting(e -> e.get("cat").getAsString() + ":" + e.get("name").getAsString())
                .containsExactly("layer:vision layer 1/1", "layer:adapter", "layer:decoder layer 1/1", "step:step 1/2",
                        "step:step 2/2");
        JsonObject adapterToLayer = events.stream().filter(e -> e.get("name").getAsString().equals("decoder layer 1/1"))
                .findFirst().orElseThrow();
        assertThat(adapterToLayer.get("dur").getAsLong()).isGreaterThanOrEqualTo(1000 * 2 * TraceProfile.SAMPLE_MILLIS);
        // counters every 0.5 s from the sampler, plus one at every boundary
        List<JsonObject> rss = events.stream().filter(e -> e.get("ph").getAsString().equals("C")).toList();
        assertThat(rss).hasSizeGreaterThanOrEqualTo(2 + 8);
        assertThat(rss.get(0).getAsJsonObject("args").keySet()).containsExactlyInAnyOrder("anonymous MB", "file-backed MB");
        assertThat(rss.get(0).getAsJsonObject("args").get("anonymous MB").getAsDouble()).isPositive();
        JsonObject end = events.stream().filter(e -> e.get("ph").getAsString().equals("E")).findFirst().orElseThrow();
        assertThat(end.getAsJsonObject("args").keySet()).contains("peak_rss_MB", "peak_anonymous_MB", "peak_file_MB");
        JsonObject last = events.get(events.size() - 1);
        assertThat(last.get("name").getAsString()).isEqualTo(TraceProfile.END);
        assertThat(last.getAsJsonObject("args").get("peak_rss_MB").getAsDouble()).isPositive();
    }

    @Test
    void aStageLeftOpenByAFailureIsClosedAsAborted() throws Exception {
        Path file = tmp.resolve("failed.json");
        try (TraceProfile p = new TraceProfile(file, "test")) {
            p.started(Stage.DENOISE, 51);
            p.progress(Stage.DENOISE, 1, 51, "step 1/51");
        }
        List<JsonObject> events = TraceEvents.valid(file);
        JsonObject end = events.stream().filter(e -> e.get("ph").getAsString().equals("E")).findFirst().orElseThrow();
        assertThat(end.get("name").getAsString()).isEqualTo(Stage.DENOISE.label());
        assertThat(end.getAsJsonObject("args").get("aborted").getAsBoolean()).isTrue();
    }

    @Test
    void theProcessMemoryParserReadsProcStatus() {
        ProcessMemory m = ProcessMemory.parse("""
                Name:\tjava
                VmHWM:\t 5000 kB
                VmRSS:\t 4000 kB
                RssAnon:\t 3000 kB
                RssFile:\t 900 kB
                RssShmem:\t 100 kB
                """);
        assertThat(m).isEqualTo(new ProcessMemory(3000 * 1024L, 900 * 1024L, 100 * 1024L, 5000 * 1024L));
        assertThat(m.residentBytes()).isEqualTo(4000 * 1024L);
        assertThat(ProcessMemory.parse("Name:\tjava\n")).isNull();
        assertThat(ProcessMemory.self().orElseThrow().peakBytes()).isPositive();
    }
}
