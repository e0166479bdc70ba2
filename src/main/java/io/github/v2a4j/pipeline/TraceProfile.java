package io.github.v2a4j.pipeline;

import com.google.gson.Gson;
import com.google.gson.JsonObject;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A {@link PipelineListener} that writes a Chrome trace-event profile (JSON array format), which Perfetto
 * (ui.perfetto.dev) and chrome://tracing open: where the time and the memory of a generation go.
 *
 * <ul>
 *   <li>each stage as a {@code "B"}/{@code "E"} pair on the pipeline's track; the {@code "E"} event's args hold the
 *       stage's peak resident memory (anonymous, file-backed, total) among the samples taken during it;
 *   <li>each CogVLM2 vision layer, the adapter, each decoder layer and each denoising step as an {@code "X"} event
 *       inside its stage (a unit's start is the end of the one before it);
 *   <li>on a track of its own, each latent window's CogVLM2 video pass as an {@code "X"} event, and its share of denoising (its guided UNet
 *       evaluations summed over every step, which interleave with the other windows') as an instant event at the end
 *       of the denoising stage, with the window's stretch of sound and its seconds in the args;
 *   <li>resident memory, anonymous and file-backed ({@link ProcessMemory}), as {@code "C"} counter events: every
 *       {@value #SAMPLE_MILLIS} ms from a daemon thread, and at every stage and unit boundary;
 *   <li>{@code "M"} events naming the process and the track, and at the end an instant event {@value #END} with the
 *       process's peak ({@code VmHWM}) and the largest anonymous and file-backed samples.
 * </ul>
 *
 * Timestamps are microseconds since the profile was opened. Events go to the file as they happen and are flushed,
 * so the profile of a run that is killed still opens (the format lets the closing bracket be missing); on the pipeline's
 * track every event's timestamp is at least the one before it. {@link #close()} ends a stage left open by a failure
 * (its {@code "E"} args say {@code "aborted": true}) and closes the array.
 */
public final class TraceProfile implements PipelineListener, AutoCloseable {

    static final long SAMPLE_MILLIS = 500;
    /** Name of the last event, which carries the process's peaks. */
    public static final String END = "end of profile";
    /** Category of stage events. */
    public static final String STAGE = "stage";
    /** Category of CogVLM2 layer (and adapter) events. */
    public static final String LAYER = "layer";
    /** Category of denoising step events. */
    public static final String STEP = "step";
    /** Category of latent window events. */
    public static final String WINDOW = "window";

    private static final long PIPELINE_TRACK = 1;
    /** Latent windows get a track of their own: a window's event is written when it ends, after its layers'. */
    private static final long WINDOW_TRACK = 2;
    private static final Gson GSON = new Gson();

    private final Path file;
    private final BufferedWriter out;
    private final long pid = ProcessHandle.current().pid();
    private final long t0 = System.nanoTime();
    private final Thread sampler;
    private boolean first = true;
    private boolean closed;

    private Stage open;
    private long unitStart;
    private long stageAnon;
    private long stageFile;
    private long stageResident;
    private long maxAnon;
    private long maxFile;

    /**
     * Creates (or replaces) {@code file} and starts sampling memory.
     *
     * @param processName the process's name in the viewer ({@code "v2a generate"})
     */
    public TraceProfile(Path file, String processName) {
        this.file = file;
        try {
            this.out = Files.newBufferedWriter(file, StandardCharsets.UTF_8);
            out.write("[\n");
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot write the profile (" + e.getMessage() + ")", e);
        }
        metadata("process_name", 0, processName);
        metadata("thread_name", PIPELINE_TRACK, "pipeline");
        metadata("thread_name", WINDOW_TRACK, "latent windows");
        sample();
        sampler = new Thread(this::sampleUntilClosed, "v2a-profile-memory");
        sampler.setDaemon(true);
        sampler.start();
    }

    public Path file() {
        return file;
    }

    @Override
    public synchronized void started(Stage stage, int units) {
        open = stage;
        stageAnon = 0;
        stageFile = 0;
        stageResident = 0;
        long now = micros();
        JsonObject args = new JsonObject();
        args.addProperty("units", units);
        event(stage.label(), STAGE, "B", now, args);
        unitStart = now;
        sample();
    }

    @Override
    public synchronized void progress(Stage stage, int done, int units, String detail) {
        long now = micros();
        JsonObject e = base(detail == null ? stage.label() + " " + done + "/" + units : detail,
                stage == Stage.DENOISE ? STEP : LAYER, "X", unitStart);
        e.addProperty("dur", now - unitStart);
        JsonObject args = new JsonObject();
        args.addProperty("stage", stage.label());
        args.addProperty("done", done);
        args.addProperty("units", units);
        e.add("args", args);
        write(e);
        unitStart = now;
        sample();
    }

    @Override
    public synchronized void window(Stage stage, int window, int windows, double fromSec, double toSec,
                                    Duration took) {
        long now = micros();
        long dur = took.toNanos() / 1000;
        boolean contiguous = stage == Stage.ENCODE_VIDEO;
        JsonObject e = base(stage.label() + ", window " + window + "/" + windows, WINDOW, contiguous ? "X" : "i",
                contiguous ? Math.max(0, now - dur) : now);
        e.addProperty("tid", WINDOW_TRACK);
        if (contiguous) e.addProperty("dur", Math.min(dur, now));
        else e.addProperty("s", "t");
        JsonObject args = new JsonObject();
        args.addProperty("stage", stage.label());
        args.addProperty("window", window);
        args.addProperty("windows", windows);
        args.addProperty("from_s", fromSec);
        args.addProperty("to_s", toSec);
        args.addProperty("seconds", took.toNanos() / 1e9);
        e.add("args", args);
        write(e);
    }

    @Override
    public synchronized void finished(Stage stage, Duration took) {
        sample();
        end(stage, false);
    }

    private void end(Stage stage, boolean aborted) {
        JsonObject args = new JsonObject();
        args.addProperty("peak_rss_MB", mb(stageResident));
        args.addProperty("peak_anonymous_MB", mb(stageAnon));
        args.addProperty("peak_file_MB", mb(stageFile));
        if (aborted) args.addProperty("aborted", true);
        event(stage.label(), STAGE, "E", micros(), args);
        open = null;
    }

    /** One memory sample: a counter event, and the running peaks of the stage and the process. */
    private synchronized void sample() {
        if (closed) return;
        ProcessMemory.self().ifPresent(m -> {
            stageAnon = Math.max(stageAnon, m.anonymousBytes());
            stageFile = Math.max(stageFile, m.fileBytes());
            stageResident = Math.max(stageResident, m.residentBytes());
            maxAnon = Math.max(maxAnon, m.anonymousBytes());
            maxFile = Math.max(maxFile, m.fileBytes());
            JsonObject e = new JsonObject();
            e.addProperty("name", "RSS");
            e.addProperty("ph", "C");
            e.addProperty("ts", micros());
            e.addProperty("pid", pid);
            JsonObject args = new JsonObject();
            args.addProperty("anonymous MB", mb(m.anonymousBytes()));
            args.addProperty("file-backed MB", mb(m.fileBytes()));
            e.add("args", args);
            write(e);
        });
    }

    private void sampleUntilClosed() {
        while (true) {
            try {
                Thread.sleep(SAMPLE_MILLIS);
            } catch (InterruptedException e) {
                return;
            }
            synchronized (this) {
                if (closed) return;
                sample();
            }
        }
    }

    /** Ends a stage left open, writes the peaks and closes the JSON array. */
    @Override
    public void close() {
        sampler.interrupt();
        synchronized (this) {
            if (closed) return;
            sample();
            if (open != null) end(open, true);
            JsonObject args = new JsonObject();
            ProcessMemory.self().ifPresent(m -> args.addProperty("peak_rss_MB", mb(m.peakBytes())));
            args.addProperty("peak_anonymous_MB", mb(maxAnon));
            args.addProperty("peak_file_MB", mb(maxFile));
            JsonObject e = base(END, "process", "i", micros());
            e.addProperty("s", "p");
            e.add("args", args);
            write(e);
            closed = true;
            try {
                out.write("\n]\n");
                out.close();
            } catch (IOException ex) {
                throw new UncheckedIOException(file + ": cannot finish the profile (" + ex.getMessage() + ")", ex);
            }
        }
    }

    private void metadata(String name, long tid, String value) {
        JsonObject e = new JsonObject();
        e.addProperty("name", name);
        e.addProperty("ph", "M");
        e.addProperty("pid", pid);
        e.addProperty("tid", tid);
        JsonObject args = new JsonObject();
        args.addProperty("name", value);
        e.add("args", args);
        write(e);
    }

    private void event(String name, String category, String phase, long ts, JsonObject args) {
        JsonObject e = base(name, category, phase, ts);
        e.add("args", args);
        write(e);
    }

    private JsonObject base(String name, String category, String phase, long ts) {
        JsonObject e = new JsonObject();
        e.addProperty("name", name);
        e.addProperty("cat", category);
        e.addProperty("ph", phase);
        e.addProperty("ts", ts);
        e.addProperty("pid", pid);
        e.addProperty("tid", PIPELINE_TRACK);
        return e;
    }

    private synchronized void write(JsonObject e) {
        if (closed) return;
        try {
            if (!first) out.write(",\n");
            first = false;
            out.write(GSON.toJson(e));
            out.flush();
        } catch (IOException ex) {
            throw new UncheckedIOException(file + ": cannot write the profile (" + ex.getMessage() + ")", ex);
        }
    }

    private long micros() {
        return (System.nanoTime() - t0) / 1000;
    }

    private static double mb(long bytes) {
        return Math.round(bytes / 1e4) / 100.0;
    }
}
