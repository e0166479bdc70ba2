package io.github.v2a4j.serve;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import io.github.v2a4j.synthetic.DemoModel;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A bounded load test of {@code v2a serve} (the real command, in its own JVM with the launcher's settings) on the
 * demo model, over loopback only: {@code load.clients} clients (8) each submit {@code load.jobs} jobs (5) one after
 * another, wait for each result and fetch it; a full queue ({@code load.maxQueue}, 4) answers 429 and the client
 * waits the Retry-After it was given. It stops by itself after the fixed count (or after {@code load.timeoutMinutes},
 * 90, as a failure) and writes throughput, latency percentiles, the service's peak RSS and the lost jobs (must be 0)
 * to {@code target/load-report.md}. Run: {@code mvn test -Pload [-Dload.steps=10 ...]}.
 */
@Tag("load")
class ServeLoadTest {
    private static final Pattern LISTENING = Pattern.compile("listening on http://127\\.0\\.0\\.1:(\\d+)/");

    @TempDir
    Path dir;

    @Test
    void clientsTimesJobsOnTheDemoModel() throws Exception {
        int clients = Integer.getInteger("load.clients", 8);
        int jobsEach = Integer.getInteger("load.jobs", 5);
        int steps = Integer.getInteger("load.steps", 10);
        int maxQueue = Integer.getInteger("load.maxQueue", 4);
        Duration timeout = Duration.ofMinutes(Integer.getInteger("load.timeoutMinutes", 90));
        Path model = dir.resolve("model");
        DemoModel.write(model);
        byte[] video = TestServer.sample();

        Process service = startService(model, maxQueue);
        try {
            int port = awaitListening(service);
            Http http = new Http(port, null);
            long readyBy = System.nanoTime() + Duration.ofMinutes(5).toNanos();
            while (http.get("/readyz").statusCode() != 200) {
                assertThat(System.nanoTime()).as("model open within 5 min").isLessThan(readyBy);
                Thread.sleep(200);
            }

            List<Double> latencies = Collections.synchronizedList(new ArrayList<>());
            List<String> problems = Collections.synchronizedList(new ArrayList<>());
            AtomicInteger accepted = new AtomicInteger();
            AtomicInteger done = new AtomicInteger();
            AtomicInteger rejected429 = new AtomicInteger();
            AtomicInteger connectionErrors = new AtomicInteger();
            long deadline = System.nanoTime() + timeout.toNanos();
            long t0 = System.nanoTime();
            ExecutorService pool = Executors.newFixedThreadPool(clients);
            List<Future<?>> running = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                int client = c;
                running.add(pool.submit(() -> {
                    for (int j = 0; j < jobsEach; j++) {
                        long start = System.nanoTime();
                        Map<String, String> fields = Http.fields("steps", Integer.toString(steps),
                                "seed", Integer.toString(client * 1000 + j));
                        String id = null;
                        while (id == null && System.nanoTime() < deadline) {
                            HttpResponse<String> r;
                            try {
                                // not Expect: 100-continue: Java 17's client hangs when the answer is a 429
                                r = http.submit(video, fields);
                            } catch (java.io.IOException e) { // a connection that failed: retry, as a client should
                                connectionErrors.incrementAndGet();
                                Thread.sleep(1000);
                                continue;
                            }
                            if (r.statusCode() == 202) {
                                id = Http.json(r).get("id").getAsString();
                                accepted.incrementAndGet();
                            } else if (r.statusCode() == 429) {
                                rejected429.incrementAndGet();
                                long wait = Long.parseLong(r.headers().firstValue("Retry-After").orElse("1"));
                                Thread.sleep(TimeUnit.SECONDS.toMillis(Math.min(wait, 30)));
                            } else {
                                problems.add("submit " + r.statusCode() + " " + r.body());
                                return null;
                            }
                        }
                        JsonObject last = null;
                        while (id != null && System.nanoTime() < deadline) {
                            HttpResponse<String> r;
                            try {
                                r = http.get("/v1/jobs/" + id);
                            } catch (java.io.IOException e) {
                                connectionErrors.incrementAndGet();
                                Thread.sleep(1000);
                                continue;
                            }
                            if (r.statusCode() != 200) {
                                problems.add("job " + id + " answered " + r.statusCode() + ": " + r.body());
                                break;
                            }
                            last = Http.json(r);
                            String state = last.get("state").getAsString();
                            if (!state.equals("queued") && !state.equals("running")) break;
                            Thread.sleep(500);
                        }
                        if (last == null || !last.get("state").getAsString().equals("done")) {
                            problems.add("job " + id + " ended as " + last);
                            continue;
                        }
                        HttpResponse<byte[]> mp4 = http.getBytes("/v1/jobs/" + id + "/result");
                        if (mp4.statusCode() != 200 || mp4.body().length < 1000) {
                            problems.add("job " + id + " result " + mp4.statusCode());
                            continue;
                        }
                        done.incrementAndGet();
                        latencies.add((System.nanoTime() - start) / 1e9);
                    }
                    return null;
                }));
            }
            for (Future<?> f : running) f.get();
            pool.shutdown();
            double wall = (System.nanoTime() - t0) / 1e9;
            String metrics = http.get("/metrics").body();

            // lost: accepted by the service (its own count) and never done
            int serverAccepted = (int) value(metrics, "v2a_jobs_submitted_total");
            int serverDone = (int) value(metrics, "v2a_jobs_finished_total{state=\"done\"}");
            int lost = serverAccepted - serverDone;
            List<Double> sorted = new ArrayList<>(latencies);
            Collections.sort(sorted);
            String report = String.format("""
                    # v2a serve load test
                    clients %d × jobs %d (steps %d, demo model, max-queue %d, 1 worker), loopback
                    jobs accepted %d, done %d, lost %d (the service's counts); results fetched by the clients %d
                    429 answers %d (clients waited Retry-After), connection errors retried %d
                    wall %.1f s, throughput %.2f jobs/min
                    latency submit → result fetched: p50 %.1f s, p95 %.1f s, max %.1f s
                    service run time per job (mean) %.1f s, queue wait (mean) %.1f s
                    service peak RSS %.0f MB
                    problems: %s
                    """, clients, jobsEach, steps, maxQueue, serverAccepted, serverDone, lost, done.get(), rejected429.get(),
                    connectionErrors.get(),
                    wall, done.get() / wall * 60, percentile(sorted, 50), percentile(sorted, 95),
                    sorted.isEmpty() ? Double.NaN : sorted.get(sorted.size() - 1),
                    mean(metrics, "v2a_job_run_seconds"), mean(metrics, "v2a_job_wait_seconds"),
                    value(metrics, "process_resident_memory_peak_bytes") / 1e6, problems.isEmpty() ? "none" : problems);
            Files.createDirectories(Path.of("target"));
            Files.writeString(Path.of("target/load-report.md"), report);
            System.out.println(report);

            assertThat(problems).isEmpty();
            assertThat(done.get()).isEqualTo(clients * jobsEach);
            assertThat(accepted.get()).isEqualTo(clients * jobsEach);
            assertThat(serverAccepted).isEqualTo(clients * jobsEach);
            assertThat(lost).isZero();
        } finally {
            service.destroy(); // SIGTERM: the service's own clean stop
            if (!service.waitFor(60, TimeUnit.SECONDS)) service.destroyForcibly();
        }
    }

    private Process startService(Path model, int maxQueue) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "-Xmx2g", "-Dorg.bytedeco.javacpp.maxphysicalbytes=0",
                "-Dai.djl.offline=true", "-cp", System.getProperty("java.class.path"), "io.github.v2a4j.cli.Main",
                "serve", "--model", model.toString(), "--port", "0", "--work-dir", dir.resolve("work").toString(),
                "--max-queue", Integer.toString(maxQueue));
        pb.environment().putIfAbsent("OMP_WAIT_POLICY", "PASSIVE");
        pb.environment().putIfAbsent("MALLOC_MMAP_THRESHOLD_", "1048576"); // as the ./v2a launcher sets it
        pb.environment().putIfAbsent("GLIBC_TUNABLES", "glibc.malloc.hugetlb=1");
        pb.redirectOutput(dir.resolve("service.out").toFile());
        return pb.start();
    }

    /** Reads the service's stderr until it says where it listens; the rest is copied to service.log. */
    private int awaitListening(Process p) throws Exception {
        BufferedReader err = new BufferedReader(new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8));
        String line;
        while ((line = err.readLine()) != null) {
            Matcher m = LISTENING.matcher(line);
            if (m.find()) {
                Thread copy = new Thread(() -> {
                    try {
                        Files.write(dir.resolve("service.log"), (Iterable<String>) err.lines()::iterator);
                    } catch (Exception e) {
                        // the log is for reading after a failure only
                    }
                }, "service-log");
                copy.setDaemon(true);
                copy.start();
                return Integer.parseInt(m.group(1));
            }
        }
        throw new AssertionError("the service exited before listening");
    }

    private static double percentile(List<Double> sorted, int p) {
        if (sorted.isEmpty()) return Double.NaN;
        int rank = (int) Math.ceil(p / 100.0 * sorted.size()); // nearest rank
        return sorted.get(Math.max(0, rank - 1));
    }

    private static double mean(String metrics, String timer) {
        return value(metrics, timer + "_sum") / value(metrics, timer + "_count");
    }

    private static double value(String metrics, String name) {
        for (String line : metrics.split("\n")) {
            if (line.startsWith(name + " ")) return Double.parseDouble(line.substring(name.length() + 1).strip());
        }
        return Double.NaN;
    }
}
