package io.github.v2a4j.serve;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import io.github.v2a4j.io.video.VideoException;
import io.github.v2a4j.io.video.VideoReader;
import io.javalin.Javalin;
import io.javalin.compression.CompressionStrategy;
import io.javalin.http.Context;
import io.javalin.http.Handler;
import io.javalin.http.HandlerType;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP side of {@code v2a serve} on Javalin: the JSON API under {@code /v1}, health, readiness, metrics, the
 * OpenAPI document and the web page. Every error is {@code {"error": "one line"}}; nothing a client sends becomes a
 * path, and no response carries a stack trace.
 */
final class HttpApi {
    private static final Logger LOG = LoggerFactory.getLogger(HttpApi.class);
    private static final Gson GSON = new GsonBuilder().disableHtmlEscaping().create();
    private static final Pattern UUID_TEXT =
            Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
    private static final String JSON = "application/json";
    private static final String RESOURCES = "/io/github/v2a4j/serve/";
    private static final String BODY_READ = "v2a.bodyRead";
    /** Largest refused body still read to its end so that the refusal reaches the client (see drainUnreadBody). */
    private static final long DRAIN_LIMIT = 16L * 1024 * 1024;

    /** One endpoint; {@code open} ones need no token. */
    record Route(HandlerType method, String path, boolean open, Handler handler) {}

    private final JobService service;
    private final JobStore store;
    private final ServeMetrics metrics;
    private final long maxUpload;
    private final byte[] tokenHash;
    private final Map<String, byte[]> page;
    private Javalin app;

    HttpApi(JobService service, JobStore store, ServeMetrics metrics, long maxUpload, String token) {
        this.service = service;
        this.store = store;
        this.metrics = metrics;
        this.maxUpload = maxUpload;
        this.tokenHash = token == null ? null : sha256(token);
        this.page = Map.of("index.html", resource("index.html"), "app.js", resource("app.js"),
                "style.css", resource("style.css"), "openapi.json", resource("openapi.json"));
    }

    /** Every endpoint the service has; the OpenAPI document lists the same (a test holds them together). */
    List<Route> routes() {
        return List.of(
                new Route(HandlerType.GET, "/", true, ctx -> pageFile(ctx, "index.html", "text/html; charset=utf-8")),
                new Route(HandlerType.GET, "/app.js", true,
                        ctx -> pageFile(ctx, "app.js", "text/javascript; charset=utf-8")),
                new Route(HandlerType.GET, "/style.css", true, ctx -> pageFile(ctx, "style.css", "text/css; charset=utf-8")),
                new Route(HandlerType.GET, "/healthz", true, ctx -> json(ctx, 200, Map.of("status", "ok"))),
                new Route(HandlerType.GET, "/readyz", false, this::ready),
                new Route(HandlerType.GET, "/metrics", false, ctx -> ctx.contentType(
                        "text/plain; version=0.0.4; charset=utf-8").result(metrics.scrape())),
                new Route(HandlerType.GET, "/openapi.json", false,
                        ctx -> ctx.contentType(JSON).result(page.get("openapi.json"))),
                new Route(HandlerType.POST, "/v1/jobs", false, this::submit),
                new Route(HandlerType.GET, "/v1/jobs/{id}", false, ctx -> json(ctx, 200, status(job(ctx)))),
                new Route(HandlerType.DELETE, "/v1/jobs/{id}", false, this::cancel),
                new Route(HandlerType.GET, "/v1/jobs/{id}/result", false,
                        ctx -> result(ctx, ClipGenerator.RESULT, "video/mp4")),
                new Route(HandlerType.GET, "/v1/jobs/{id}/audio", false,
                        ctx -> result(ctx, ClipGenerator.AUDIO, "audio/wav")),
                new Route(HandlerType.GET, "/v1/jobs/{id}/spectrogram", false,
                        ctx -> result(ctx, ClipGenerator.SPECTROGRAM, "image/png")));
    }

    Javalin start(String host, int port) {
        app = Javalin.create(c -> {
            c.startup.showJavalinBanner = false;
            c.startup.showOldJavalinVersionWarning = false;
            c.http.compressionStrategy = CompressionStrategy.NONE;
            c.jetty.modifyHttpConfiguration(h -> {
                h.setSendServerVersion(false);
                h.setSendXPoweredBy(false);
            });
            for (Route r : routes()) {
                Handler h = r.open() ? r.handler() : ctx -> {
                    authorize(ctx);
                    r.handler().handle(ctx);
                };
                c.routes.addHttpHandler(r.method(), r.path(), ctx -> {
                    securityHeaders(ctx);
                    h.handle(ctx);
                });
            }
            c.routes.exception(ApiException.class, (e, ctx) -> {
                drainUnreadBody(ctx);
                e.headers.forEach(ctx::header);
                json(ctx, e.status, Map.of("error", e.getMessage()));
            });
            c.routes.exception(Exception.class, (e, ctx) -> {
                LOG.error("v2a: {} {} failed", ctx.method(), ctx.path(), e);
                json(ctx, 500, Map.of("error", "internal error (see the service log)"));
            });
            c.routes.error(404, ctx -> { // Javalin's own 404 (no route matched) is plain text: make it JSON
                if (!String.valueOf(ctx.res().getContentType()).startsWith(JSON)) {
                    json(ctx, 404, Map.of("error", "no such endpoint"));
                }
            });
            c.routes.error(405, ctx -> json(ctx, 405, Map.of("error", "method not allowed")));
        });
        return app.start(host, port);
    }

    void stop() {
        if (app != null) app.stop();
    }

    /**
     * A request turned away before its body was read (401, 413 by length, 415, 429, 503, 507) would leave unread
     * bytes on the connection; closing a connection with unread bytes resets it, and a client still sending may then
     * lose the answer. So a body of up to {@value #DRAIN_LIMIT} bytes is read and dropped first; a larger one is cut
     * off (the connection closes). A client that sends {@code Expect: 100-continue}, as curl does for uploads over
     * 1 MB, sends no body at all before a refusal.
     */
    private static void drainUnreadBody(Context ctx) {
        long length = ctx.req().getContentLengthLong();
        if (ctx.attribute(BODY_READ) != null || length <= 0 || length > DRAIN_LIMIT
                || "100-continue".equalsIgnoreCase(ctx.header("Expect"))) {
            return;
        }
        try (InputStream in = ctx.req().getInputStream()) {
            byte[] buf = new byte[64 * 1024];
            while (in.read(buf) >= 0) {
                // dropped
            }
        } catch (IOException e) {
            // the client went away: nothing to answer
        }
    }

    private void authorize(Context ctx) {
        if (tokenHash == null) return;
        String header = ctx.header("Authorization");
        boolean ok = false;
        if (header != null && header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            // digests of equal length compared in constant time: neither the token nor its length leaks by timing
            ok = MessageDigest.isEqual(tokenHash, sha256(header.substring(7).strip()));
        }
        if (!ok) {
            metrics.rejected("unauthorized");
            throw new ApiException(401, header == null ? "this service needs 'Authorization: Bearer <token>'"
                    : "wrong token", Map.of("WWW-Authenticate", "Bearer"));
        }
    }

    private void ready(Context ctx) {
        if (service.ready()) {
            json(ctx, 200, Map.of("ready", true));
        } else {
            String why = !service.accepting() ? "shutting down"
                    : service.opened().isCompletedExceptionally() ? "the model failed to open" : "opening the model";
            json(ctx, 503, Map.of("ready", false, "reason", why));
        }
    }

    private void submit(Context ctx) throws IOException {
        if (!service.accepting()) {
            metrics.rejected("shutting_down");
            throw ApiException.retryLater(503, "the service is shutting down", 30);
        }
        String type = ctx.contentType();
        if (type == null || !type.toLowerCase(Locale.ROOT).startsWith("multipart/form-data")) {
            metrics.rejected("bad_request");
            throw new ApiException(415, "send multipart/form-data with the video in a part named 'video'");
        }
        long length = ctx.req().getContentLengthLong();
        if (length > maxUpload + MultipartUpload.FORM_OVERHEAD) {
            metrics.rejected("too_large");
            throw new ApiException(413, "the upload is larger than the limit of " + ServeConfig.megabytes(maxUpload));
        }
        if (!service.hasRoom()) {
            metrics.rejected("queue_full");
            throw ApiException.retryLater(429, "the queue is full", service.retryAfterSeconds());
        }
        if (store.usableSpace() < 2 * maxUpload) {
            metrics.rejected("no_space");
            throw new ApiException(507, "the service is short of disk space");
        }
        UUID id = UUID.randomUUID();
        Path staging = store.newStaging(id);
        boolean accepted = false;
        try {
            Path video = staging.resolve(JobStore.INPUT);
            ctx.attribute(BODY_READ, true);
            MultipartUpload.Received form = MultipartUpload.receive(ctx.req().getInputStream(), type, video, maxUpload);
            JobOptions options;
            try {
                options = JobOptions.fromFields(form.fields());
                VideoReader.probeHeader(video);
            } catch (IllegalArgumentException | VideoException e) {
                throw new ApiException(400, JobService.oneLine(e, video));
            }
            Job job = service.accept(id, staging, options);
            accepted = true;
            metrics.submitted();
            ctx.header("Location", jobPath(job));
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("id", job.id.toString());
            body.put("url", jobPath(job));
            body.put("state", job.state().id());
            body.put("position", service.position(job));
            json(ctx, 202, body);
        } catch (ApiException e) {
            metrics.rejected(e.status == 413 ? "too_large" : e.status == 507 ? "no_space" : "bad_request");
            throw e;
        } catch (JobService.QueueFullException e) {
            metrics.rejected("queue_full");
            throw ApiException.retryLater(429, "the queue is full", e.retryAfterSeconds);
        } catch (JobService.ShuttingDownException e) {
            metrics.rejected("shutting_down");
            throw ApiException.retryLater(503, "the service is shutting down", 30);
        } finally {
            if (!accepted) store.discard(staging);
        }
    }

    private void cancel(Context ctx) {
        Job job = job(ctx);
        switch (service.cancel(job.id)) {
            case CANCELLED -> json(ctx, 200, status(job));
            case CANCELLING -> json(ctx, 202, status(job));
            case DELETED -> ctx.status(204);
            case NOT_FOUND -> throw notFound();
        }
    }

    private void result(Context ctx, String file, String contentType) throws IOException {
        Job job = job(ctx);
        JobStatus s = job.status();
        if (s.state() != JobState.DONE) {
            throw new ApiException(409, "job is " + s.state().id() + (s.error() == null ? "" : ": " + s.error())
                    + "; its files exist once it is done");
        }
        Path f = store.out(job.id).resolve(file);
        InputStream in;
        long size;
        try {
            size = Files.size(f);
            in = Files.newInputStream(f);
        } catch (NoSuchFileException e) {
            throw notFound(); // expired (TTL) or deleted between the lookup and here
        }
        ctx.header("Content-Disposition", "inline; filename=\"v2a-" + job.id + "-" + file + "\"");
        ctx.header("Content-Length", Long.toString(size));
        ctx.contentType(contentType).result(in); // streamed from the file, and closed, by Javalin
    }

    /** The job named by the {@code {id}} path parameter; only a canonical UUID is ever looked up. */
    private Job job(Context ctx) {
        String text = ctx.pathParam("id");
        if (!UUID_TEXT.matcher(text).matches()) throw notFound();
        return service.find(UUID.fromString(text)).orElseThrow(HttpApi::notFound);
    }

    private static ApiException notFound() {
        return new ApiException(404, "no such job (finished jobs are kept for the result TTL)");
    }

    private Map<String, Object> status(Job job) {
        JobStatus s = job.status();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", s.id());
        m.put("state", s.state().id());
        if (s.state() == JobState.QUEUED) m.put("position", service.position(job));
        Job.Progress p = job.progress();
        if (s.state() == JobState.RUNNING) {
            if (p != null) {
                m.put("stage", JobStatus.stageId(p.stage()));
                m.put("stage_label", p.stage().label());
                m.put("progress", Map.of("done", p.done(), "units", p.units()));
            }
            if (job.cancelRequested()) m.put("cancel_requested", true);
        }
        if (s.error() != null) m.put("error", s.error());
        m.put("created", Instant.ofEpochMilli(s.createdMs()).toString());
        if (s.startedMs() != null) m.put("started", Instant.ofEpochMilli(s.startedMs()).toString());
        if (s.finishedMs() != null) m.put("finished", Instant.ofEpochMilli(s.finishedMs()).toString());
        Map<String, Double> timings = new LinkedHashMap<>();
        if (s.state() == JobState.RUNNING) {
            job.stagesDone().forEach((stage, d) -> timings.put(JobStatus.stageId(stage), d.toMillis() / 1000.0));
        } else {
            s.timingsMs().forEach((stage, ms) -> timings.put(stage, ms / 1000.0));
        }
        m.put("timings_seconds", timings);
        if (s.audioSeconds() != null) m.put("audio_seconds", s.audioSeconds());
        m.put("attempts", s.attempts());
        m.put("options", job.options.asFields());
        Map<String, String> links = new LinkedHashMap<>();
        links.put("self", jobPath(job));
        if (s.state() == JobState.DONE) {
            links.put("result", jobPath(job) + "/result");
            links.put("audio", jobPath(job) + "/audio");
            links.put("spectrogram", jobPath(job) + "/spectrogram");
        }
        m.put("links", links);
        return m;
    }

    private static String jobPath(Job job) {
        return "/v1/jobs/" + job.id;
    }

    private void pageFile(Context ctx, String name, String contentType) {
        ctx.header("Content-Security-Policy", "default-src 'self'; media-src 'self' blob:; img-src 'self' blob:; "
                + "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'");
        ctx.contentType(contentType).result(page.get(name));
    }

    private static void securityHeaders(Context ctx) {
        ctx.header("X-Content-Type-Options", "nosniff");
        ctx.header("Referrer-Policy", "no-referrer");
        ctx.header("Cache-Control", "no-store");
    }

    private static void json(Context ctx, int status, Object body) {
        ctx.status(status).contentType(JSON).result(GSON.toJson(body));
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every Java runtime", e);
        }
    }

    private static byte[] resource(String name) {
        try (InputStream in = HttpApi.class.getResourceAsStream(RESOURCES + name)) {
            if (in == null) throw new IllegalStateException("resource " + RESOURCES + name + " is missing from the jar");
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
