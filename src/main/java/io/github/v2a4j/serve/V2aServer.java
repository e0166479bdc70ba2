package io.github.v2a4j.serve;

import java.io.IOException;
import java.time.Clock;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One running service: the work directory, the job queue with its workers, and the HTTP API in front of them.
 * {@link #start} listens at once (so {@code /healthz} answers while the model opens); {@code /readyz} turns ready
 * when every worker has opened its model.
 */
public final class V2aServer {

    private final ServeConfig config;
    private final JobService service;
    private final HttpApi http;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final AtomicBoolean stopping = new AtomicBoolean();
    private int port;

    private V2aServer(ServeConfig config, JobService service, HttpApi http) {
        this.config = config;
        this.service = service;
        this.http = http;
    }

    /**
     * Opens the work directory (taking up the jobs a previous run left), starts the workers, which call
     * {@code opener} once each, and starts listening.
     */
    public static V2aServer start(ServeConfig config, Callable<? extends ClipGenerator> opener) throws IOException {
        JobStore store = new JobStore(config.workDir());
        ServeMetrics metrics = new ServeMetrics();
        JobService service = new JobService(store, opener, config.workers(), config.maxQueue(), config.resultTtl(),
                metrics, Clock.systemUTC());
        metrics.bind(service);
        HttpApi http = new HttpApi(service, store, metrics, config.maxUpload(), config.token());
        V2aServer server = new V2aServer(config, service, http);
        service.start();
        try {
            server.port = http.start(config.bind(), config.port()).port();
        } catch (RuntimeException e) {
            service.shutdown(java.time.Duration.ZERO);
            throw e;
        }
        return server;
    }

    public int port() {
        return port;
    }

    /** Completes when every worker has opened its model, or exceptionally when one could not. */
    public CompletableFuture<Void> modelOpened() {
        return service.opened();
    }

    /**
     * Stops taking jobs, lets running jobs finish within the grace period (or stops them at a step boundary and keeps
     * them to run again at the next start), then stops listening. Safe to call more than once: a later call waits
     * for the first.
     *
     * @return whether this call did the stopping
     */
    public boolean stop() {
        if (!stopping.compareAndSet(false, true)) {
            awaitStopped();
            return false;
        }
        try {
            service.shutdown(config.shutdownGrace());
            http.stop();
        } finally {
            stopped.countDown();
        }
        return true;
    }

    /** Blocks until {@link #stop} has finished. */
    public void awaitStopped() {
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
