package io.github.v2a4j.serve;

import com.google.gson.Gson;
import com.google.gson.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Predicate;

/** A loopback client for the service's API over {@code java.net.http}, as a user's program would call it. */
final class Http {
    static final Gson GSON = new Gson();
    static final String BOUNDARY = "v2a4j-test-boundary-7d1c";

    final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    final String base;
    final String token;

    Http(int port, String token) {
        this.base = "http://127.0.0.1:" + port;
        this.token = token;
    }

    HttpRequest.Builder request(String path) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(60));
        if (token != null) b.header("Authorization", "Bearer " + token);
        return b;
    }

    HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return client.send(request(path).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<byte[]> getBytes(String path) throws IOException, InterruptedException {
        return client.send(request(path).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    HttpResponse<String> delete(String path) throws IOException, InterruptedException {
        return client.send(request(path).DELETE().build(), HttpResponse.BodyHandlers.ofString());
    }

    /** POST /v1/jobs with {@code video} as the file part and the given text fields. */
    HttpResponse<String> submit(byte[] video, Map<String, String> fields) throws IOException, InterruptedException {
        return client.send(request("/v1/jobs").header("Content-Type", "multipart/form-data; boundary=" + BOUNDARY)
                .POST(HttpRequest.BodyPublishers.ofByteArray(form(video, fields))).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    static byte[] form(byte[] video, Map<String, String> fields) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        fields.forEach((k, v) -> write(out, "--" + BOUNDARY + "\r\nContent-Disposition: form-data; name=\"" + k
                + "\"\r\n\r\n" + v + "\r\n"));
        if (video != null) {
            write(out, "--" + BOUNDARY + "\r\nContent-Disposition: form-data; name=\"video\"; filename=\"clip.mp4\"\r\n"
                    + "Content-Type: video/mp4\r\n\r\n");
            out.writeBytes(video);
            write(out, "\r\n");
        }
        write(out, "--" + BOUNDARY + "--\r\n");
        return out.toByteArray();
    }

    private static void write(ByteArrayOutputStream out, String s) {
        out.writeBytes(s.getBytes(StandardCharsets.UTF_8));
    }

    static JsonObject json(HttpResponse<String> r) {
        return GSON.fromJson(r.body(), JsonObject.class);
    }

    static Map<String, String> fields(String... kv) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put(kv[i], kv[i + 1]);
        return m;
    }

    /** Polls the job until {@code until} holds for its state, or fails after {@code timeout}. */
    JsonObject await(String id, Duration timeout, Predicate<JsonObject> until) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        JsonObject last = null;
        while (System.nanoTime() < deadline) {
            HttpResponse<String> r = get("/v1/jobs/" + id);
            if (r.statusCode() != 200) throw new AssertionError("GET job " + id + ": " + r.statusCode() + " " + r.body());
            last = json(r);
            if (until.test(last)) return last;
            Thread.sleep(50);
        }
        throw new AssertionError("job " + id + " did not get there in " + timeout + "; last: " + last);
    }

    JsonObject awaitState(String id, Duration timeout, String... states) throws Exception {
        return await(id, timeout, j -> java.util.Arrays.asList(states).contains(j.get("state").getAsString()));
    }
}
