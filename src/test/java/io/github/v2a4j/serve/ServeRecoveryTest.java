package io.github.v2a4j.serve;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a start makes of the work directory a previous run left (the kill itself is in {@link ServeRestartTest}). */
class ServeRecoveryTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path work;

    @Test
    void aJobTheServiceDiedInThreeTimesFailsInsteadOfRunningForever() throws Exception {
        String id;
        FakeGenerator gated = FakeGenerator.gated(5);
        try (TestServer s = TestServer.start(work, () -> gated)) {
            id = ServeApiTest.id(s.http.submit(TestServer.sample(), Map.of()));
            s.http.awaitState(id, WAIT, "running");
        } // stopped after the grace: kept queued
        Path state = work.resolve("jobs").resolve(id).resolve("state.json");
        String json = Files.readString(state);
        assertThat(json).contains("\"state\": \"QUEUED\"");
        // as if the process had died during this job twice before, and once more now
        Files.writeString(state, json.replace("\"state\": \"QUEUED\"", "\"state\": \"RUNNING\"")
                .replace("\"interruptions\": 0", "\"interruptions\": 2"));

        FakeGenerator fresh = new FakeGenerator(1, 0);
        try (TestServer s = TestServer.start(work, () -> fresh)) {
            JsonObject j = Http.json(s.http.get("/v1/jobs/" + id));
            assertThat(j.get("state").getAsString()).isEqualTo("failed");
            assertThat(j.get("error").getAsString()).isEqualTo("the service stopped during this job 3 times; not run again");
            assertThat(fresh.started.get()).isZero();
            assertThat(work.resolve("jobs").resolve(id).resolve("input")).doesNotExist();
        }
    }

    @Test
    void aFolderThatIsNoJobIsLeftAloneAndTheRestRuns() throws Exception {
        String id;
        FakeGenerator gated = FakeGenerator.gated(5);
        try (TestServer s = TestServer.start(work, () -> gated)) {
            s.http.awaitState(ServeApiTest.id(s.http.submit(TestServer.sample(), Map.of())), WAIT, "running");
            id = ServeApiTest.id(s.http.submit(TestServer.sample(), Map.of("prompt", "second")));
        }
        Path stray = Files.createDirectories(work.resolve("jobs/not-a-job"));
        Path broken = Files.createDirectories(work.resolve("jobs/11111111-1111-4111-8111-111111111111"));
        Files.writeString(broken.resolve("state.json"), "{ truncated");

        try (TestServer s = TestServer.start(work, () -> new FakeGenerator(1, 0))) {
            assertThat(s.http.awaitState(id, WAIT, "done").getAsJsonObject("options").get("prompt").getAsString())
                    .isEqualTo("second");
            assertThat(s.http.get("/v1/jobs/11111111-1111-4111-8111-111111111111").statusCode()).isEqualTo(404);
        }
        assertThat(stray).isDirectory();
        assertThat(broken.resolve("state.json")).hasContent("{ truncated");
    }
}
