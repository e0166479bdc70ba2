package io.github.v2a4j.serve;

import io.github.v2a4j.io.video.VideoException;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The job queue and its workers. Jobs run in the order they were accepted, {@code workers} at a time (one by default),
 * each worker with its own {@link ClipGenerator}, opened once in the worker's thread. Every state change is persisted
 * before it is visible, so a restart finds each accepted job queued, finished, or interrupted; an interrupted job
 * runs again, unless the service stopped during it {@value #MAX_INTERRUPTIONS} times already (a job that kills the
 * process each time then fails instead of taking the service down forever).
 */
final class JobService {
    private static final Logger LOG = LoggerFactory.getLogger(JobService.class);

    static final int MAX_INTERRUPTIONS = 3;
    /** Guess of a job's run time for Retry-After before any job has finished. */
    private static final double FIRST_GUESS_SECONDS = 60;

    /** What a DELETE did. */
    enum Cancel { NOT_FOUND, CANCELLED, CANCELLING, DELETED }

    /** The queue is full; {@code retryAfterSeconds} estimates when a place frees up. */
    static final class QueueFullException extends Exception {
        final long retryAfterSeconds;

        QueueFullException(long retryAfterSeconds) {
            super("the queue is full", null, false, false);
            this.retryAfterSeconds = retryAfterSeconds;
        }
    }

    /** The service is stopping and takes no more jobs. */
    static final class ShuttingDownException extends Exception {
        ShuttingDownException() {
            super("the service is shutting down", null, false, false);
        }
    }

    private final JobStore store;
    private final Callable<? extends ClipGenerator> opener;
    private final int workers;
    private final int maxQueue;
    private final Duration ttl;
    private final ServeMetrics metrics;
    private final Clock clock;

    private final Map<UUID, Job> jobs = new ConcurrentHashMap<>();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final PriorityQueue<Job> queue = new PriorityQueue<>(Comparator.comparingLong(Job::seq));
    private final Set<Job> running = new HashSet<>();
    private final List<Thread> threads = new ArrayList<>();
    private final CompletableFuture<Void> opened = new CompletableFuture<>();
    private final AtomicInteger openedCount = new AtomicInteger();
    private final ScheduledExecutorService sweeper = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "v2a-ttl");
        t.setDaemon(true);
        return t;
    });
    private long nextSeq;
    private double meanRunSeconds = Double.NaN;
    private volatile boolean accepting = true;
    private volatile boolean stopping;

    JobService(JobStore store, Callable<? extends ClipGenerator> opener, int workers, int maxQueue, Duration ttl,
               ServeMetrics metrics, Clock clock) {
        this.store = store;
        this.opener = opener;
        this.workers = workers;
        this.maxQueue = maxQueue;
        this.ttl = ttl;
        this.metrics = metrics;
        this.clock = clock;
    }

    /** Takes up the jobs left in the work directory, starts the workers (which open the model) and the TTL sweep. */
    void start() throws IOException {
        recover();
        for (int i = 0; i < workers; i++) {
            Thread t = new Thread(this::work, "v2a-worker-" + i);
            t.setDaemon(true);
            threads.add(t);
            t.start();
        }
        long period = Math.max(1000, Math.min(60_000, ttl.toMillis() / 2));
        sweeper.scheduleWithFixedDelay(this::expire, period, period, TimeUnit.MILLISECONDS);
    }

    /** Completes once every worker opened its model, or exceptionally with the first failure to open one. */
    CompletableFuture<Void> opened() {
        return opened;
    }

    boolean ready() {
        return opened.isDone() && !opened.isCompletedExceptionally() && !stopping;
    }

    boolean accepting() {
        return accepting;
    }

    Optional<Job> find(UUID id) {
        return Optional.ofNullable(jobs.get(id));
    }

    int queued() {
        lock.lock();
        try {
            return queue.size();
        } finally {
            lock.unlock();
        }
    }

    int count(JobState state) {
        int n = 0;
        for (Job j : jobs.values()) if (j.state() == state) n++;
        return n;
    }

    /** 1 for the job that runs next; 0 for a job that is not queued. */
    int position(Job job) {
        lock.lock();
        try {
            if (job.state() != JobState.QUEUED || !queue.contains(job)) return 0;
            int p = 1;
            for (Job q : queue) if (q.seq() < job.seq()) p++;
            return p;
        } finally {
            lock.unlock();
        }
    }

    /** Whether a submission would find room now (checked again when it is accepted). */
    boolean hasRoom() {
        return queued() < maxQueue;
    }

    /**
     * Seconds until a place in the queue is likely to free up: the mean run time of the jobs so far (60 s before the
     * first) less how long the oldest running job has run, at least 1 s.
     */
    long retryAfterSeconds() {
        lock.lock();
        try {
            double mean = Double.isNaN(meanRunSeconds) ? FIRST_GUESS_SECONDS : meanRunSeconds;
            long now = clock.millis();
            double elapsed = 0;
            for (Job j : running) {
                Long started = j.status().startedMs();
                if (started != null) elapsed = Math.max(elapsed, (now - started) / 1000.0);
            }
            return Math.max(1, Math.min(3600, (long) Math.ceil(mean - elapsed)));
        } finally {
            lock.unlock();
        }
    }

    /**
     * Accepts the upload in {@code stagingDir} as a job: persists it (the job exists on disk before this returns) and
     * queues it.
     */
    Job accept(UUID id, Path stagingDir, JobOptions options)
            throws QueueFullException, ShuttingDownException, IOException {
        lock.lock();
        try {
            if (!accepting) throw new ShuttingDownException();
            if (queue.size() >= maxQueue) throw new QueueFullException(retryAfterSeconds());
            JobStatus status = JobStatus.queued(id.toString(), nextSeq, clock.millis());
            store.commit(stagingDir, status, options);
            nextSeq++;
            Job job = new Job(id, options, status);
            jobs.put(id, job);
            queue.add(job);
            changed.signalAll();
            LOG.info("v2a: job {} accepted ({} queued)", id, queue.size());
            return job;
        } finally {
            lock.unlock();
        }
    }

    /**
     * A queued job is cancelled at once; a running one stops at its next stage or denoising-step boundary; a
     * finished one is deleted with its files.
     */
    Cancel cancel(UUID id) {
        Job job = jobs.get(id);
        if (job == null) return Cancel.NOT_FOUND;
        lock.lock();
        try {
            switch (job.state()) {
                case QUEUED -> {
                    queue.remove(job);
                    finish(job, job.status().cancelled(clock.millis()));
                    return Cancel.CANCELLED;
                }
                case RUNNING -> {
                    job.requestCancel();
                    return Cancel.CANCELLING;
                }
                default -> {
                    jobs.remove(id);
                    deleteQuietly(id);
                    return Cancel.DELETED;
                }
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Stops taking jobs, gives running jobs {@code grace} to finish, then stops them at their next boundary and keeps
     * them queued on disk to run again at the next start.
     */
    void shutdown(Duration grace) {
        accepting = false;
        long deadline = System.nanoTime() + grace.toNanos();
        lock.lock();
        try {
            while (!running.isEmpty()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) break;
                changed.awaitNanos(left);
            }
            stopping = true;
            changed.signalAll();
        } catch (InterruptedException e) {
            stopping = true;
            Thread.currentThread().interrupt();
        } finally {
            lock.unlock();
        }
        sweeper.shutdownNow();
        long joinDeadline = System.nanoTime() + Math.max(grace.toNanos(), TimeUnit.SECONDS.toNanos(5));
        for (Thread t : threads) {
            try {
                t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(joinDeadline - System.nanoTime())));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        lock.lock();
        try {
            // a worker still inside a step that outlasted the wait: its job is kept to run again
            for (Job j : List.copyOf(running)) {
                if (j.state() == JobState.RUNNING) persist(j, j.status().requeued(false));
            }
        } finally {
            lock.unlock();
        }
    }

    private void recover() throws IOException {
        int requeued = 0;
        int rerun = 0;
        for (JobStore.Stored s : store.load()) {
            UUID id = UUID.fromString(s.status().id());
            Job job = new Job(id, s.options(), s.status());
            if (job.state() == JobState.RUNNING) {
                JobStatus again = s.status().requeued(true);
                if (again.interruptions() >= MAX_INTERRUPTIONS) {
                    again = again.failed(clock.millis(), "the service stopped during this job "
                            + again.interruptions() + " times; not run again");
                    store.deleteInput(id);
                } else {
                    rerun++;
                }
                persist(job, again);
            } else if (job.state().terminal()) {
                store.deleteInput(id); // a crash between the final state and this clean-up leaves it
            }
            jobs.put(id, job);
            if (job.state() == JobState.QUEUED) {
                queue.add(job);
                requeued++;
            }
            nextSeq = Math.max(nextSeq, job.seq() + 1);
        }
        if (!jobs.isEmpty()) {
            LOG.info("v2a: found {} jobs in {}: {} queued ({} of them interrupted and run again)", jobs.size(),
                    store.root(), requeued, rerun);
        }
    }

    private void work() {
        ClipGenerator generator;
        try {
            generator = opener.call();
        } catch (Throwable t) {
            opened.completeExceptionally(t);
            return;
        }
        if (openedCount.incrementAndGet() == workers) opened.complete(null);
        try (generator) {
            for (Job job = next(); job != null; job = next()) run(job, generator);
        }
    }

    private Job next() {
        lock.lock();
        try {
            while (!stopping && queue.isEmpty()) changed.await();
            if (stopping) return null;
            Job job = queue.poll();
            running.add(job);
            persist(job, job.status().running(clock.millis()));
            LOG.info("v2a: job {} started", job.id);
            return job;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        } finally {
            lock.unlock();
        }
    }

    private void run(Job job, ClipGenerator generator) {
        JobStatus started = job.status();
        metrics.waited(Duration.ofMillis(started.startedMs() - started.createdMs()));
        Path input = store.input(job.id);
        try {
            store.clearOutputs(job.id);
            ClipGenerator.Result r = generator.generate(input, store.out(job.id), job.options,
                    job.listener(metrics::stage), () -> job.cancelRequested() || stopping);
            complete(job, job.status().done(clock.millis(), r));
        } catch (CancellationException e) {
            if (job.cancelRequested()) {
                complete(job, job.status().cancelled(clock.millis()));
            } else {
                complete(job, job.status().requeued(false)); // stopped by a shutdown: runs again at the next start
            }
        } catch (Throwable t) {
            String reason = oneLine(t, input);
            if (t instanceof IllegalArgumentException || t instanceof VideoException) {
                LOG.info("v2a: job {} failed: {}", job.id, reason);
            } else {
                LOG.warn("v2a: job {} failed", job.id, t);
            }
            complete(job, job.status().failed(clock.millis(), reason));
        }
    }

    private void complete(Job job, JobStatus status) {
        lock.lock();
        try {
            running.remove(job);
            if (status.state().terminal()) {
                finish(job, status);
                double s = status.runTime().toMillis() / 1000.0;
                if (status.state() == JobState.DONE) {
                    meanRunSeconds = Double.isNaN(meanRunSeconds) ? s : 0.7 * meanRunSeconds + 0.3 * s;
                }
            } else {
                persist(job, status);
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** A terminal state: persisted, the upload removed (the results stay until the TTL), counted. */
    private void finish(Job job, JobStatus status) {
        persist(job, status);
        if (status.state() != JobState.FAILED) { // failures are logged with their reason where they happen
            LOG.info("v2a: job {} {} after {} s", job.id, status.state().id(), status.runTime().toMillis() / 1000.0);
        }
        try {
            store.deleteInput(job.id);
        } catch (IOException e) {
            LOG.warn("v2a: job {}: cannot remove its upload: {}", job.id, e.getMessage());
        }
        metrics.finished(status.state(), status.runTime());
    }

    /**
     * Writes the state, then shows it. A state that cannot be written is still shown; on disk the job keeps its last
     * state, which at the next start means it runs again: nothing accepted is lost.
     */
    private void persist(Job job, JobStatus status) {
        try {
            store.save(status);
        } catch (IOException e) {
            LOG.error("v2a: job {}: cannot save its state: {}", job.id, e.getMessage());
        }
        job.status(status);
    }

    private void expire() {
        long now = clock.millis();
        for (Job job : jobs.values()) {
            JobStatus s = job.status();
            if (s.state().terminal() && s.finishedMs() != null && s.finishedMs() + ttl.toMillis() <= now) {
                jobs.remove(job.id);
                deleteQuietly(job.id);
            }
        }
    }

    private void deleteQuietly(UUID id) {
        try {
            store.delete(id);
        } catch (IOException e) {
            LOG.warn("v2a: job {}: cannot delete its folder: {}", id, e.getMessage());
        }
    }

    /**
     * The CLI's one-line reason for a failure, with the server's own path to the upload replaced by "video" (a
     * client never learns where the service keeps its files).
     */
    static String oneLine(Throwable t, Path input) {
        Throwable e = t;
        while (e.getMessage() == null && e.getCause() != null) e = e.getCause();
        String msg = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        if (t instanceof OutOfMemoryError) msg = "out of memory";
        return msg.replace(input.toString(), "video").replace('\n', ' ');
    }
}
