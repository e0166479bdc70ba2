package io.github.v2a4j.serve;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Restarts and stops of a real service process (a JVM of its own on a fake generator): killed with SIGKILL while
 * one job runs and others wait, then started again on the same work directory, every accepted job still finishes;
 * stopped with SIGTERM, a running job either finishes within the grace period or is kept to run again.
 */
class ServeRestartTest {
    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path work;

    @TempDir
    Path logs;

    private final List<Process> processes = new ArrayList<>();

    @AfterEach
    void killLeftovers() throws Exception {
        for (Process p : processes) {
            if (p.isAlive()) {
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void aKilledServiceLosesNoAcceptedJob() throws Exception {
        Service first = start(20, 100, 2000);
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 3; i++) ids.add(ServeApiTest.id(first.http.submit(TestServer.sample(), Map.of("prompt", "job " + i))));
        first.http.await(ids.get(0), WAIT, j -> j.has("progress") && j.getAsJsonObject("progress").get("done").getAsInt() >= 2);

        first.process.destroyForcibly(); // SIGKILL: no shutdown hook runs
        assertThat(first.process.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(state(ids.get(0))).isEqualTo("RUNNING");
        assertThat(state(ids.get(1))).isEqualTo("QUEUED");
        assertThat(state(ids.get(2))).isEqualTo("QUEUED");
        Path halfUpload = Files.createDirectories(work.resolve("staging/an-upload-cut-off-by-the-kill"));
        Files.writeString(halfUpload.resolve("input"), "half a video");

        Service second = start(2, 10, 2000);
        for (int i = 0; i < 3; i++) {
            JsonObject j = second.http.awaitState(ids.get(i), WAIT, "done", "failed");
            assertThat(j.get("state").getAsString()).as(j.toString()).isEqualTo("done");
            assertThat(new String(second.http.getBytes("/v1/jobs/" + ids.get(i) + "/result").body(),
                    StandardCharsets.UTF_8)).isEqualTo("fake mp4 for prompt 'job " + i + "' seed 0");
            assertThat(j.get("attempts").getAsInt()).isEqualTo(i == 0 ? 2 : 1); // the interrupted job ran again
        }
        assertThat(halfUpload).doesNotExist();
        stop(second);
    }

    @Test
    void sigtermKeepsARunningJobToRunAgainWhenTheGraceRunsOut() throws Exception {
        Service first = start(200, 100, 300);
        String running = ServeApiTest.id(first.http.submit(TestServer.sample(), Map.of()));
        String queued = ServeApiTest.id(first.http.submit(TestServer.sample(), Map.of()));
        first.http.await(running, WAIT, j -> j.has("progress") && j.getAsJsonObject("progress").get("done").getAsInt() >= 1);

        assertThat(stop(first)).isEqualTo(143); // 128 + SIGTERM: the JVM ran its shutdown hooks and exited
        assertThat(state(running)).isEqualTo("QUEUED");
        assertThat(state(queued)).isEqualTo("QUEUED");
        assertThat(Files.readString(work.resolve("jobs").resolve(running).resolve("state.json")))
                .contains("\"interruptions\": 0"); // a clean stop, not counted as a crash

        Service second = start(2, 10, 2000);
        assertThat(second.http.awaitState(running, WAIT, "done").get("attempts").getAsInt()).isEqualTo(2);
        assertThat(second.http.awaitState(queued, WAIT, "done").get("attempts").getAsInt()).isEqualTo(1);
        stop(second);
    }

    @Test
    void sigtermLetsARunningJobFinishWithinTheGrace() throws Exception {
        Service s = start(10, 100, 20_000);
        String id = ServeApiTest.id(s.http.submit(TestServer.sample(), Map.of()));
        s.http.awaitState(id, WAIT, "running");
        assertThat(stop(s)).isEqualTo(143);
        assertThat(state(id)).isEqualTo("DONE");
        assertThat(work.resolve("jobs").resolve(id).resolve("out/result.mp4")).isRegularFile();
    }

    @Test
    void theServeCommandOpensTheModelOnceAndStopsCleanlyOnSigterm() throws Exception {
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Path log = work.resolve("serve.log");
        ProcessBuilder pb = new ProcessBuilder(javaBin, "-Xmx1g", "-Dorg.bytedeco.javacpp.maxphysicalbytes=0",
                "-cp", System.getProperty("java.class.path"), "io.github.v2a4j.cli.Main", "serve",
                "--model", "assets/demo-model", "--port", "0", "--work-dir", work.resolve("w").toString());
        pb.redirectErrorStream(true);
        pb.redirectOutput(log.toFile());
        Process p = pb.start();
        processes.add(p);
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!Files.readString(log).contains("v2a: model open; ready for jobs")) {
            assertThat(p.isAlive()).as(Files.readString(log)).isTrue();
            assertThat(System.nanoTime()).as(Files.readString(log)).isLessThan(deadline);
            Thread.sleep(100);
        }
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("listening on http://127\\.0\\.0\\.1:(\\d+)/")
                .matcher(Files.readString(log));
        assertThat(m.find()).isTrue();
        Http http = new Http(Integer.parseInt(m.group(1)), null);
        assertThat(http.get("/readyz").statusCode()).isEqualTo(200);
        p.destroy();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isEqualTo(143);
        assertThat(Files.readString(log)).contains("v2a: stopping: no new jobs", "v2a: stopped");
    }

    private record Service(Process process, Http http) {}

    private Service start(int steps, long stepMillis, long graceMillis) throws Exception {
        Path log = Files.createTempFile(logs, "serve-", ".log");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "-Xmx256m", "-cp", System.getProperty("java.class.path"),
                FakeServerMain.class.getName(), work.toString(), Integer.toString(steps), Long.toString(stepMillis),
                Long.toString(graceMillis));
        pb.redirectError(log.toFile());
        Process p = pb.start();
        processes.add(p);
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        String line = out.readLine();
        assertThat(line).as("service output; its log: %s", Files.readString(log)).startsWith("PORT ");
        return new Service(p, new Http(Integer.parseInt(line.substring(5).strip()), null));
    }

    /** SIGTERM, then the exit code. */
    private static int stop(Service s) throws Exception {
        s.process.destroy();
        assertThat(s.process.waitFor(60, TimeUnit.SECONDS)).as("stopped within a minute").isTrue();
        return s.process.exitValue();
    }

    private String state(String id) throws Exception {
        String json = Files.readString(work.resolve("jobs").resolve(id).resolve("state.json"));
        return Http.GSON.fromJson(json, JsonObject.class).get("state").getAsString();
    }
}
