package io.github.v2a4j.cli;

import io.github.v2a4j.pipeline.PipelineListener;
import io.github.v2a4j.pipeline.Stage;
import java.io.PrintStream;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;

/**
 * Progress on stderr: a bar with ETA redrawn in place on a terminal, one line per quarter of a stage otherwise
 * (so logs from CI or a service stay short).
 */
final class ProgressBar implements PipelineListener {
    private static final int WIDTH = 28;

    private final PrintStream out;
    private final boolean terminal;
    private final Map<Stage, Duration> took = new EnumMap<>(Stage.class);
    private long stageStart;
    private int lastQuarter;

    ProgressBar(PrintStream out, boolean terminal) {
        this.out = out;
        this.terminal = terminal;
    }

    @Override
    public void started(Stage stage, int units) {
        stageStart = System.nanoTime();
        lastQuarter = 0;
        if (terminal) draw(stage, 0, units);
        else out.println("v2a: " + stage.label() + " ...");
    }

    @Override
    public void progress(Stage stage, int done, int units) {
        if (terminal) {
            draw(stage, done, units);
        } else {
            int quarter = units == 0 ? 4 : 4 * done / units;
            if (quarter > lastQuarter && quarter < 4) {
                lastQuarter = quarter;
                out.printf("v2a: %s %d/%d, %s left%n", stage.label(), done, units, eta(done, units));
            }
        }
    }

    @Override
    public void finished(Stage stage, Duration d) {
        took.put(stage, d);
        if (terminal) out.print("\r\033[K");
        out.printf("v2a: %s done in %s%n", stage.label(), format(d));
    }

    Map<Stage, Duration> timings() {
        return took;
    }

    private void draw(Stage stage, int done, int units) {
        int filled = units == 0 ? WIDTH : WIDTH * done / units;
        out.printf("\r\033[K%-24s [%s%s] %d/%d  ETA %s", stage.label(), "#".repeat(filled), ".".repeat(WIDTH - filled),
                done, units, eta(done, units));
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
