package io.github.v2a4j.cli;

import io.github.v2a4j.pipeline.PipelineListener;
import io.github.v2a4j.pipeline.Stage;
import java.io.PrintStream;
import java.time.Duration;
import java.util.Locale;

/**
 * Progress on stderr: a bar with ETA and the unit just done redrawn in place on a terminal; otherwise one line per
 * quarter of a stage and at least one a minute (so logs from CI or a service stay short, and a long stage still
 * shows it is alive).
 */
final class ProgressBar implements PipelineListener {
    private static final int WIDTH = 28;

    private final PrintStream out;
    private final boolean terminal;
    private static final long LOG_EVERY_NANOS = 60_000_000_000L;

    private String prefix = "";
    private long stageStart;
    private long lastLine;
    private int lastQuarter;

    ProgressBar(PrintStream out, boolean terminal) {
        this.out = out;
        this.terminal = terminal;
    }

    /** Put before every line and bar (a batch's {@code "[2/5] "}); empty for none. */
    void prefix(String p) {
        prefix = p;
    }

    @Override
    public void started(Stage stage, int units) {
        stageStart = System.nanoTime();
        lastLine = stageStart;
        lastQuarter = 0;
        if (terminal) draw(stage, 0, units, null);
        else out.println("v2a: " + prefix + stage.label() + " ...");
    }

    @Override
    public void progress(Stage stage, int done, int units, String detail) {
        if (terminal) {
            draw(stage, done, units, detail);
            return;
        }
        long now = System.nanoTime();
        int quarter = units == 0 ? 4 : 4 * done / units;
        boolean newQuarter = quarter > lastQuarter && quarter < 4;
        if (newQuarter || (done < units && now - lastLine >= LOG_EVERY_NANOS)) {
            lastQuarter = Math.max(lastQuarter, quarter);
            lastLine = now;
            out.printf("v2a: %s%s %d/%d%s, %s left%n", prefix, stage.label(), done, units,
                    detail == null ? "" : " (" + detail + ")", eta(done, units));
        }
    }

    @Override
    public void finished(Stage stage, Duration d) {
        if (terminal) out.print("\r\033[K");
        out.printf("v2a: %s%s done in %s%n", prefix, stage.label(), format(d));
    }

    @Override
    public void window(Stage stage, int window, int windows, double fromSec, double toSec, Duration took) {
        if (windows == 1) return; // a video of at most 12 s: the stage's own line says it all
        if (terminal) out.print("\r\033[K");
        out.printf(Locale.ROOT, "v2a: %s%s, window %d/%d (%.2f-%.2f s of sound): %s%n", prefix, stage.label(), window,
                windows, fromSec, toSec, format(took));
    }

    private void draw(Stage stage, int done, int units, String detail) {
        int filled = units == 0 ? WIDTH : Math.min(WIDTH, WIDTH * done / Math.max(1, units));
        out.printf("\r\033[K%s%-24s [%s%s] %d/%d  ETA %s%s", prefix, stage.label(), "#".repeat(filled),
                ".".repeat(WIDTH - filled), done, units, eta(done, units), detail == null ? "" : "  " + detail);
        out.flush();
    }

    private String eta(int done, int units) {
        if (done == 0) return "--";
        long elapsed = System.nanoTime() - stageStart;
        return format(Duration.ofNanos(elapsed / done * (units - done)));
    }

    static String format(Duration d) {
        long s = d.toSeconds();
        if (s >= 60) return String.format("%dm%02ds", s / 60, s % 60);
        return String.format("%.1fs", d.toMillis() / 1000.0);
    }
}
