package io.github.v2a4j.serve;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The API over loopback with {@code java.net.http}, on a fake generator (the model adds nothing to queueing, limits,
 * faults and security; {@link ServeEndToEndTest} runs the real one).
 */
class ServeApiTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final Pattern UUID_TEXT =
            Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");

    @TempDir
    Path work;

    @Test
    void submitPollAndFetch() throws Exception {
        try (TestServer s = TestServer.start(work, () -> new FakeGenerator(3, 10))) {
            HttpResponse<String> r = s.http.submit(TestServer.sample(), Http.fields("prompt", "rain on a roof",
                    "seed", "7", "steps", "20", "keep_video", "on"));
            assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
            JsonObject accepted = Http.json(r);
            String id = accepted.get("id").getAsString();
            assertThat(id).matches(UUID_TEXT);
            assertThat(accepted.get("url").getAsString()).isEqualTo("/v1/jobs/" + id);
            assertThat(r.headers().firstValue("Location")).hasValue("/v1/jobs/" + id);
            // the job's state when the answer is written: a free worker may already have taken it
            assertThat(accepted.get("state").getAsString()).isIn("queued", "running");

            JsonObject done = s.http.awaitState(id, WAIT, "done", "failed");
            assertThat(done.get("state").getAsString()).as(done.toString()).isEqualTo("done");
            assertThat(done.getAsJsonObject("timings_seconds").has("denoise")).isTrue();
            assertThat(done.get("audio_seconds").getAsDouble()).isEqualTo(1.5);
            assertThat(done.get("attempts").getAsInt()).isEqualTo(1);
            JsonObject options = done.getAsJsonObject("options");
            assertThat(options.get("prompt").getAsString()).isEqualTo("rain on a roof");
            assertThat(options.get("seed").getAsLong()).isEqualTo(7);
            assertThat(options.get("steps").getAsInt()).isEqualTo(20);
            assertThat(options.get("keep_video").getAsBoolean()).isTrue();
            assertThat(options.get("guidance").getAsDouble()).isEqualTo(8.0);

            HttpResponse<byte[]> video = s.http.getBytes(done.getAsJsonObject("links").get("result").getAsString());
            assertThat(video.statusCode()).isEqualTo(200);
            assertThat(video.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("video/mp4"));
            assertThat(new String(video.body(), StandardCharsets.UTF_8))
                    .isEqualTo("fake mp4 for prompt 'rain on a roof' seed 7");
            assertThat(s.http.getBytes("/v1/jobs/" + id + "/audio").headers().firstValue("Content-Type"))
                    .hasValueSatisfying(t -> assertThat(t).startsWith("audio/wav"));
            assertThat(s.http.getBytes("/v1/jobs/" + id + "/spectrogram").statusCode()).isEqualTo(200);
            // the upload is removed once the job is done; the results stay
            assertThat(work.resolve("jobs").resolve(id).resolve("input")).doesNotExist();
            assertThat(work.resolve("jobs").resolve(id).resolve("out/result.mp4")).isRegularFile();
        }
    }

    @Test
    void queuedJobsShowTheirPositionAndRunningJobsTheirStep() throws Exception {
        FakeGenerator gen = FakeGenerator.gated(4);
        try (TestServer s = TestServer.start(work, () -> gen)) {
            String a = id(s.http.submit(TestServer.sample(), Map.of()));
            String b = id(s.http.submit(TestServer.sample(), Map.of()));
            String c = id(s.http.submit(TestServer.sample(), Map.of()));
            s.http.awaitState(a, WAIT, "running");
            gen.gate.release(2);
            JsonObject running = s.http.await(a, WAIT, j -> j.has("progress")
                    && j.getAsJsonObject("progress").get("done").getAsInt() == 2);
            assertThat(running.get("stage").getAsString()).isEqualTo("denoise");
            assertThat(running.get("stage_label").getAsString()).isEqualTo("denoising");
            assertThat(running.getAsJsonObject("progress").get("units").getAsInt()).isEqualTo(4);
            assertThat(Http.json(s.http.get("/v1/jobs/" + b)).get("position").getAsInt()).isEqualTo(1);
            assertThat(Http.json(s.http.get("/v1/jobs/" + c)).get("position").getAsInt()).isEqualTo(2);
            gen.gate.release(100);
            for (String id : List.of(a, b, c)) s.http.awaitState(id, WAIT, "done");
        }
    }

    @Test
    void twoWorkersRunTwoJobsAtOnceEachWithItsOwnGenerator() throws Exception {
        List<FakeGenerator> opened = java.util.Collections.synchronizedList(new ArrayList<>());
        ServeConfig c = TestServer.config(work);
        c = new ServeConfig(c.bind(), 0, work, 8, c.maxUpload(), null, c.resultTtl(), 2, c.shutdownGrace());
        try (TestServer s = TestServer.start(c, () -> {
            FakeGenerator g = FakeGenerator.gated(2);
            opened.add(g);
            return g;
        })) {
            s.server.modelOpened().get();
            String a = id(s.http.submit(TestServer.sample(), Map.of()));
            String b = id(s.http.submit(TestServer.sample(), Map.of()));
            String third = id(s.http.submit(TestServer.sample(), Map.of()));
            s.http.awaitState(a, WAIT, "running");
            s.http.awaitState(b, WAIT, "running");
            assertThat(Http.json(s.http.get("/v1/jobs/" + third)).get("position").getAsInt()).isEqualTo(1);
            assertThat(opened).hasSize(2);
            assertThat(opened).allSatisfy(g -> assertThat(g.started.get()).isEqualTo(1));
            opened.forEach(g -> g.gate.release(100));
            for (String id : List.of(a, b, third)) s.http.awaitState(id, WAIT, "done");
        }
    }

    @Test
    void cancelsQueuedJobsAtOnceAndRunningJobsAtTheNextStep() throws Exception {
        FakeGenerator gen = FakeGenerator.gated(50);
        try (TestServer s = TestServer.start(work, () -> gen)) {
            String running = id(s.http.submit(TestServer.sample(), Map.of()));
            String queued = id(s.http.submit(TestServer.sample(), Map.of()));
            s.http.awaitState(running, WAIT, "running");

            HttpResponse<String> q = s.http.delete("/v1/jobs/" + queued);
            assertThat(q.statusCode()).as(q.body()).isEqualTo(200);
            assertThat(Http.json(q).get("state").getAsString()).isEqualTo("cancelled");

            HttpResponse<String> r = s.http.delete("/v1/jobs/" + running);
            assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
            assertThat(Http.json(r).get("cancel_requested").getAsBoolean()).isTrue();
            JsonObject cancelled = s.http.awaitState(running, WAIT, "cancelled", "done", "failed");
            assertThat(cancelled.get("state").getAsString()).isEqualTo("cancelled");
            assertThat(cancelled.getAsJsonObject("links").has("result")).isFalse();
            assertThat(s.http.get("/v1/jobs/" + running + "/result").statusCode()).isEqualTo(409);
            assertThat(gen.started.get()).as("the cancelled queued job never ran").isEqualTo(1);

            // DELETE on a finished job deletes it
            assertThat(s.http.delete("/v1/jobs/" + running).statusCode()).isEqualTo(204);
            assertThat(s.http.get("/v1/jobs/" + running).statusCode()).isEqualTo(404);
            assertThat(work.resolve("jobs").resolve(running)).doesNotExist();
        }
    }

    @Test
    void aFullQueueAnswers429WithRetryAfter() throws Exception {
        FakeGenerator gen = FakeGenerator.gated(1);
        ServeConfig c = TestServer.config(work);
        c = new ServeConfig(c.bind(), 0, work, 2, c.maxUpload(), null, c.resultTtl(), 1, c.shutdownGrace());
        try (TestServer s = TestServer.start(c, () -> gen)) {
            String first = id(s.http.submit(TestServer.sample(), Map.of()));
            s.http.awaitState(first, WAIT, "running");
            id(s.http.submit(TestServer.sample(), Map.of()));
            id(s.http.submit(TestServer.sample(), Map.of()));
            HttpResponse<String> full = s.http.submit(TestServer.sample(), Map.of());
            assertThat(full.statusCode()).as(full.body()).isEqualTo(429);
            assertThat(Http.json(full).get("error").getAsString()).isEqualTo("the queue is full");
            long retry = Long.parseLong(full.headers().firstValue("Retry-After").orElseThrow());
            assertThat(retry).isBetween(1L, 3600L);
            assertThat(s.jobFolders()).isEqualTo(3);
            assertThat(s.staged()).isZero();
            gen.gate.release(10);
            s.http.awaitState(first, WAIT, "done");
            // room again once a queued job started
            HttpResponse<String> again = retryWhile429(s.http);
            assertThat(again.statusCode()).as(again.body()).isEqualTo(202);
            assertThat(s.http.get("/metrics").body()).contains("v2a_jobs_rejected_total{reason=\"queue_full\"} 1.0");
        }
    }

    @Test
    void oversizeUploadsAre413WithOrWithoutContentLength() throws Exception {
        ServeConfig c = TestServer.config(work);
        c = new ServeConfig(c.bind(), 0, work, 8, 64 * 1024, null, c.resultTtl(), 1, c.shutdownGrace());
        byte[] big = new byte[3 * 1024 * 1024]; // well past the limit plus the form overhead
        System.arraycopy(TestServer.sample(), 0, big, 0, 1000);
        try (TestServer s = TestServer.start(c, () -> new FakeGenerator(1, 0))) {
            // Content-Length says it all: refused before the body is read
            HttpResponse<String> declared = s.http.submit(big, Map.of());
            assertThat(declared.statusCode()).as(declared.body()).isEqualTo(413);
            assertThat(Http.json(declared).get("error").getAsString())
                    .isEqualTo("the upload is larger than the limit of 65536 bytes");
            // chunked, no length: cut off while streaming, once the video part passes the limit
            byte[] body = Http.form(TestServer.sample(), Map.of()); // the 116 KB sample is over 64 KiB
            HttpResponse<String> chunked = s.http.client.send(s.http.request("/v1/jobs")
                    .header("Content-Type", "multipart/form-data; boundary=" + Http.BOUNDARY)
                    .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(body))).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(chunked.statusCode()).as(chunked.body()).isEqualTo(413);
            assertThat(Http.json(chunked).get("error").getAsString()).startsWith("the video is larger than the limit");
            assertThat(s.jobFolders()).isZero();
            awaitNoStaging(s);
        }
    }

    @Test
    void nonVideosAndBrokenFormsAre400AndLeaveNothing() throws Exception {
        try (TestServer s = TestServer.start(work, () -> new FakeGenerator(1, 0))) {
            HttpResponse<String> text = s.http.submit("just some text, not a video\n".repeat(100)
                    .getBytes(StandardCharsets.UTF_8), Map.of());
            assertThat(text.statusCode()).as(text.body()).isEqualTo(400);
            String error = Http.json(text).get("error").getAsString();
            assertThat(error).startsWith("video: not a video file FFmpeg can read");
            assertThat(error).doesNotContain(work.toString());

            byte[] head = java.util.Arrays.copyOf(TestServer.sample(), 400); // cut inside the container header
            HttpResponse<String> cut = s.http.submit(head, Map.of());
            assertThat(cut.statusCode()).as(cut.body()).isEqualTo(400);
            assertThat(Http.json(cut).get("error").getAsString()).startsWith("video: ");

            assertError(s.http.submit(null, Map.of("prompt", "x")), 400, "no 'video' file part in the form");
            assertError(s.http.submit(new byte[0], Map.of()), 400, "the video file is empty");
            assertError(s.http.submit(TestServer.sample(), Map.of("promt", "typo")), 400, "unknown field 'promt'");
            assertError(s.http.submit(TestServer.sample(), Map.of("steps", "0")), 400, "steps must be 1 to 200, got 0");
            assertError(s.http.submit(TestServer.sample(), Map.of("steps", "99999999999")), 400, "steps is out of range");
            assertError(s.http.submit(TestServer.sample(), Map.of("guidance", "NaN")), 400, "guidance must be a number");
            assertError(s.http.submit(TestServer.sample(), Map.of("max_duration", "13")), 400,
                    "max_duration must be 1 to 12 seconds, got 13");
            assertError(s.http.submit(TestServer.sample(), Map.of("prompt", "a".repeat(1001))), 400,
                    "prompt is longer than 1000 characters");
            assertError(s.http.submit(TestServer.sample(), Map.of("prompt", "b".repeat(5000))), 400,
                    "field 'prompt' is longer than 4000 bytes");
            assertError(s.http.submit(TestServer.sample(), Map.of("prompt", "bell\u0007")), 400,
                    "prompt contains a control character (U+0007)");
            byte[] latin1 = Http.form(TestServer.sample(), Map.of("prompt", "caf\u00e9"));
            int at = indexOf(latin1, "caf\u00e9".getBytes(StandardCharsets.UTF_8));
            latin1[at + 3] = (byte) 0xE9; // a lone Latin-1 byte: not UTF-8
            latin1[at + 4] = 'x';
            assertError(post(s, latin1, "multipart/form-data; boundary=" + Http.BOUNDARY), 400,
                    "field 'prompt' is not valid UTF-8");
            assertError(post(s, "{}".getBytes(StandardCharsets.UTF_8), "application/json"), 415,
                    "send multipart/form-data");
            assertError(post(s, "garbage".getBytes(StandardCharsets.UTF_8), "multipart/form-data; boundary=x"), 400,
                    "malformed multipart form");
            assertThat(s.jobFolders()).isZero();
            awaitNoStaging(s);
        }
    }

    @Test
    void anUploadCutOffMidwayLeavesNoJobAndNoFiles() throws Exception {
        try (TestServer s = TestServer.start(work, () -> new FakeGenerator(1, 0))) {
            byte[] body = Http.form(TestServer.sample(), Map.of("prompt", "cut"));
            try (Socket socket = new Socket("127.0.0.1", s.server.port())) {
                OutputStream out = socket.getOutputStream();
                out.write(("POST /v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary="
                        + Http.BOUNDARY + "\r\nContent-Length: " + body.length + "\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                out.write(body, 0, body.length / 2);
                out.flush();
                // wait until the server holds the half upload, then hang up
                long deadline = System.nanoTime() + WAIT.toNanos();
                while (s.staged() == 0 && System.nanoTime() < deadline) Thread.sleep(20);
                assertThat(s.staged()).isEqualTo(1);
            }
            awaitNoStaging(s);
            assertThat(s.jobFolders()).isZero();
            // the service goes on
            assertThat(s.http.submit(TestServer.sample(), Map.of()).statusCode()).isEqualTo(202);
        }
    }

    @Test
    void aTokenGuardsEveryEndpointButHealthAndThePage() throws Exception {
        String token = "s3cret-token-0123456789abcdef";
        ServeConfig c = TestServer.config(work);
        c = new ServeConfig(c.bind(), 0, work, 8, c.maxUpload(), token, c.resultTtl(), 1, c.shutdownGrace());
        try (TestServer s = TestServer.start(c, () -> new FakeGenerator(1, 0))) {
            Http none = new Http(s.server.port(), null);
            Http wrong = new Http(s.server.port(), "s3cret-token-0123456789abcdeX");
            Http shorter = new Http(s.server.port(), "s3cret");
            for (Http h : List.of(none, wrong, shorter)) {
                HttpResponse<String> r = h.submit(TestServer.sample(), Map.of());
                assertThat(r.statusCode()).isEqualTo(401);
                assertThat(r.headers().firstValue("WWW-Authenticate")).hasValue("Bearer");
                for (String path : List.of("/readyz", "/metrics", "/openapi.json",
                        "/v1/jobs/00000000-0000-4000-8000-000000000000")) {
                    assertThat(h.get(path).statusCode()).as(path).isEqualTo(401);
                }
                assertThat(h.delete("/v1/jobs/00000000-0000-4000-8000-000000000000").statusCode()).isEqualTo(401);
            }
            assertError(none.get("/metrics"), 401, "this service needs 'Authorization: Bearer <token>'");
            assertError(wrong.get("/metrics"), 401, "wrong token");
            HttpResponse<String> lower = none.client.send(none.request("/readyz").header("Authorization",
                    "bearer " + token).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(lower.statusCode()).as("the scheme name is case-insensitive").isNotEqualTo(401);
            assertThat(none.get("/healthz").statusCode()).isEqualTo(200);
            assertThat(none.get("/").statusCode()).isEqualTo(200);
            assertThat(none.get("/app.js").statusCode()).isEqualTo(200);
            assertThat(s.jobFolders()).isZero();

            HttpResponse<String> ok = s.http.submit(TestServer.sample(), Map.of());
            assertThat(ok.statusCode()).isEqualTo(202);
            String id = id(ok);
            s.http.awaitState(id, WAIT, "done");
            assertThat(none.get("/v1/jobs/" + id + "/result").statusCode()).isEqualTo(401);
            assertThat(s.http.get("/v1/jobs/" + id + "/result").statusCode()).isEqualTo(200);
            assertThat(s.http.get("/metrics").body()).contains("v2a_jobs_rejected_total{reason=\"unauthorized\"}");
        }
    }

    @Test
    void concurrentSubmissionsAllRunAndNoneIsLost() throws Exception {
        int clients = 12;
        ServeConfig c = TestServer.config(work);
        c = new ServeConfig(c.bind(), 0, work, clients, c.maxUpload(), null, c.resultTtl(), 1, c.shutdownGrace());
        byte[] video = TestServer.sample();
        try (TestServer s = TestServer.start(c, () -> new FakeGenerator(2, 5))) {
            ExecutorService pool = Executors.newFixedThreadPool(clients);
            CountDownLatch go = new CountDownLatch(1);
            List<Future<HttpResponse<String>>> sent = new ArrayList<>();
            for (int i = 0; i < clients; i++) {
                String prompt = "client " + i;
                sent.add(pool.submit(() -> {
                    go.await();
                    return s.http.submit(video, Map.of("prompt", prompt));
                }));
            }
            go.countDown();
            Set<String> ids = new HashSet<>();
            for (Future<HttpResponse<String>> f : sent) {
                HttpResponse<String> r = f.get();
                assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
                ids.add(id(r));
            }
            pool.shutdown();
            assertThat(ids).hasSize(clients);
            Set<String> prompts = new HashSet<>();
            for (String id : ids) {
                JsonObject j = s.http.awaitState(id, WAIT, "done", "failed");
                assertThat(j.get("state").getAsString()).isEqualTo("done");
                prompts.add(new String(s.http.getBytes("/v1/jobs/" + id + "/result").body(), StandardCharsets.UTF_8));
            }
            assertThat(prompts).hasSize(clients); // each job ran on its own upload and options
            assertThat(s.http.get("/metrics").body()).contains("v2a_jobs_submitted_total " + clients + ".0")
                    .contains("v2a_jobs{state=\"done\"} " + clients + ".0");
        }
    }

    @Test
    void aFailedJobGivesItsOneLineReasonWithoutServerPaths() throws Exception {
        try (TestServer s = TestServer.start(work, () -> new FakeGenerator(1, 0))) {
            String id = id(s.http.submit(TestServer.sample(), Map.of("prompt", "fail")));
            JsonObject failed = s.http.awaitState(id, WAIT, "failed", "done");
            assertThat(failed.get("state").getAsString()).isEqualTo("failed");
            assertThat(failed.get("error").getAsString()).isEqualTo("video: cannot decode frame 3");
            assertError(s.http.get("/v1/jobs/" + id + "/result"), 409, "job is failed: video: cannot decode frame 3");
            // the service goes on
            String next = id(s.http.submit(TestServer.sample(), Map.of()));
            s.http.awaitState(next, WAIT, "done");
        }
    }

    @Test
    void finishedJobsExpireAfterTheTtl() throws Exception {
        ServeConfig c = TestServer.config(work);
        c = new ServeConfig(c.bind(), 0, work, 8, c.maxUpload(), null, Duration.ofMillis(500), 1, c.shutdownGrace());
        try (TestServer s = TestServer.start(c, () -> new FakeGenerator(1, 0))) {
            String id = id(s.http.submit(TestServer.sample(), Map.of()));
            s.http.awaitState(id, WAIT, "done");
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (s.http.get("/v1/jobs/" + id).statusCode() == 200 && System.nanoTime() < deadline) Thread.sleep(100);
            assertError(s.http.get("/v1/jobs/" + id), 404, "no such job");
            awaitNoStaging(s); // the folder is moved out of jobs/ in one rename, then deleted
            assertThat(work.resolve("jobs").resolve(id)).doesNotExist();
        }
    }

    @Test
    void readinessWaitsForTheModel() throws Exception {
        CountDownLatch open = new CountDownLatch(1);
        try (TestServer s = TestServer.start(work, () -> {
            open.await();
            return new FakeGenerator(1, 0);
        })) {
            assertThat(s.http.get("/healthz").statusCode()).isEqualTo(200);
            HttpResponse<String> notYet = s.http.get("/readyz");
            assertThat(notYet.statusCode()).isEqualTo(503);
            assertThat(Http.json(notYet).get("reason").getAsString()).isEqualTo("opening the model");
            // jobs are accepted while the model opens, and run once it is open
            String id = id(s.http.submit(TestServer.sample(), Map.of()));
            open.countDown();
            s.server.modelOpened().get();
            assertThat(s.http.get("/readyz").statusCode()).isEqualTo(200);
            s.http.awaitState(id, WAIT, "done");
        }
    }

    @Test
    void metricsShowQueueJobsStagesAndMemory() throws Exception {
        try (TestServer s = TestServer.start(work, () -> new FakeGenerator(2, 0))) {
            s.http.awaitState(id(s.http.submit(TestServer.sample(), Map.of())), WAIT, "done");
            HttpResponse<String> m = s.http.get("/metrics");
            assertThat(m.statusCode()).isEqualTo(200);
            assertThat(m.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("text/plain"));
            assertThat(m.body()).contains("v2a_queue_depth 0.0", "v2a_jobs{state=\"done\"} 1.0",
                    "v2a_jobs{state=\"queued\"} 0.0", "v2a_stage_seconds_count{stage=\"denoise\"} 1",
                    "v2a_job_run_seconds_count 1", "v2a_job_wait_seconds_count 1", "v2a_jobs_finished_total{state=\"done\"} 1.0");
            assertThat(metric(m.body(), "process_resident_memory_bytes")).isGreaterThan(10e6);
            assertThat(metric(m.body(), "process_resident_memory_peak_bytes"))
                    .isGreaterThanOrEqualTo(metric(m.body(), "process_resident_memory_bytes") * 0.5);
        }
    }

    @Test
    void unknownJobsAndPathsAre404AndNoErrorCarriesAStackTrace() throws Exception {
        try (TestServer s = TestServer.start(work, () -> new FakeGenerator(1, 0))) {
            assertError(s.http.get("/v1/jobs/00000000-0000-4000-8000-000000000000"), 404, "no such job");
            assertError(s.http.get("/v1/jobs/..%2F..%2Fetc%2Fpasswd"), 404, "no");
            assertError(s.http.get("/v1/jobs/00000000-0000-4000-8000-00000000000G/result"), 404, "no such job");
            assertError(s.http.get("/v1/jobs/" + "A".repeat(36)), 404, "no such job");
            assertError(s.http.get("/nothing/here"), 404, "no such endpoint");
            HttpResponse<String> put = s.http.client.send(s.http.request("/v1/jobs").PUT(
                    HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(put.statusCode()).isIn(404, 405);
            assertThat(put.body()).doesNotContain("\tat ", "Exception");
            // a request Jetty itself refuses (bad request line)
            try (Socket socket = new Socket("127.0.0.1", s.server.port())) {
                socket.getOutputStream().write("GET /%zz HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n"
                        .getBytes(StandardCharsets.US_ASCII));
                InputStream in = socket.getInputStream();
                String reply = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
                assertThat(reply).startsWith("HTTP/1.1 400").doesNotContain("\tat ", "Exception", "org.eclipse");
            }
        }
    }

    @Test
    void theOpenApiDocumentListsExactlyTheServedEndpoints() throws Exception {
        try (TestServer s = TestServer.start(work, () -> new FakeGenerator(1, 0))) {
            HttpResponse<String> r = s.http.get("/openapi.json");
            assertThat(r.statusCode()).isEqualTo(200);
            JsonObject doc = Http.json(r);
            assertThat(doc.get("openapi").getAsString()).startsWith("3.1");
            Set<String> documented = new HashSet<>();
            doc.getAsJsonObject("paths").entrySet().forEach(p -> p.getValue().getAsJsonObject().keySet()
                    .forEach(method -> documented.add(method.toUpperCase() + " " + p.getKey())));
            Set<String> served = new HashSet<>();
            HttpApi api = new HttpApi(null, null, null, 1, null);
            for (HttpApi.Route route : api.routes()) served.add(route.method() + " " + route.path());
            assertThat(documented).isEqualTo(served);
            // the documented bounds are the enforced ones
            JsonObject req = doc.getAsJsonObject("components").getAsJsonObject("schemas").getAsJsonObject("JobRequest")
                    .getAsJsonObject("properties");
            assertThat(req.getAsJsonObject("steps").get("maximum").getAsInt()).isEqualTo(JobOptions.MAX_STEPS);
            assertThat(req.getAsJsonObject("prompt").get("maxLength").getAsInt()).isEqualTo(JobOptions.MAX_PROMPT_CHARS);
            Set<String> fields = new HashSet<>(req.keySet());
            fields.remove("video");
            assertThat(fields).isEqualTo(JobOptions.FIELDS);
        }
    }

    @Test
    void thePageIsServedWithAStrictContentSecurityPolicy() throws Exception {
        try (TestServer s = TestServer.start(work, () -> new FakeGenerator(1, 0))) {
            HttpResponse<String> page = s.http.get("/");
            assertThat(page.statusCode()).isEqualTo(200);
            assertThat(page.body()).contains("<form id=\"job-form\"", "src=\"/app.js\"");
            assertThat(page.headers().firstValue("Content-Security-Policy")).hasValueSatisfying(csp ->
                    assertThat(csp).contains("default-src 'self'", "frame-ancestors 'none'"));
            assertThat(page.headers().firstValue("X-Content-Type-Options")).hasValue("nosniff");
            assertThat(s.http.get("/app.js").body()).contains("'/v1/jobs'");
        }
    }

    private static HttpResponse<String> retryWhile429(Http http) throws Exception {
        for (int i = 0; i < 200; i++) {
            HttpResponse<String> r = http.submit(TestServer.sample(), Map.of());
            if (r.statusCode() != 429) return r;
            Thread.sleep(50);
        }
        throw new AssertionError("still 429");
    }

    private static HttpResponse<String> post(TestServer s, byte[] body, String type) throws Exception {
        return s.http.client.send(s.http.request("/v1/jobs").header("Content-Type", type)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static void awaitNoStaging(TestServer s) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (s.staged() > 0 && System.nanoTime() < deadline) Thread.sleep(20);
        assertThat(s.staged()).as("uploads left in staging").isZero();
    }

    static void assertError(HttpResponse<String> r, int status, String message) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("application/json"));
        String error = Http.json(r).get("error").getAsString();
        assertThat(error).contains(message).doesNotContain("\n", "\tat ", "Exception");
    }

    static String id(HttpResponse<String> r) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        return Http.json(r).get("id").getAsString();
    }

    private static double metric(String text, String name) {
        for (String line : text.split("\n")) {
            if (line.startsWith(name + " ")) return Double.parseDouble(line.substring(name.length() + 1).strip());
        }
        throw new AssertionError("no metric " + name);
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) if (hay[i + j] != needle[j]) continue outer;
            return i;
        }
        throw new AssertionError("not found");
    }
}
