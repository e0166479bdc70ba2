package io.github.v2a4j.cli;

import io.github.v2a4j.nn.Precision;
import io.github.v2a4j.nn.Trace;
import io.github.v2a4j.pipeline.GenerationOptions;
import io.github.v2a4j.pipeline.Video2AudioPipeline;
import io.github.v2a4j.pipeline.VideoJob;
import io.github.v2a4j.pipeline.VideoResult;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * {@code v2a generate} over many videos with one open model: each item is generated as the single-video command
 * would, a bad item is reported in one line and the batch goes on, and the journal ({@link BatchJournal}) lets an
 * interrupted batch resume without redoing what it finished. Prints progress over the items with an ETA (and the
 * current item's stages through {@link ProgressBar}), then a summary; exit 1 if any item failed.
 */
final class BatchRun {

    private enum Status { DONE, FAILED, SKIPPED }

    private record Outcome(BatchItem item, Status status, String detail) {}

    private final List<BatchItem> items;
    private final Path journalDir;
    private final GenerationOptions base;
    private final boolean keepVideo;
    private final boolean overwrite;
    private final boolean skipExisting;
    private final Path model;
    private final Precision precision;
    private final ProgressBar progress;
    private final PrintStream err;
    private final PrintStream out;

    BatchRun(List<BatchItem> items, Path journalDir, GenerationOptions base, boolean keepVideo, boolean overwrite,
             boolean skipExisting, Path model, Precision precision, ProgressBar progress, PrintStream err,
             PrintStream out) {
        this.items = items;
        this.journalDir = journalDir;
        this.base = base;
        this.keepVideo = keepVideo;
        this.overwrite = overwrite;
        this.skipExisting = skipExisting;
        this.model = model.toAbsolutePath().normalize();
        this.precision = precision;
        this.progress = progress;
        this.err = err;
        this.out = out;
    }

    /** The options of one item: the command line's, with what the item overrides. */
    GenerationOptions options(BatchItem item) {
        GenerationOptions o = base.withPrompts(item.prompt() != null ? item.prompt() : base.prompt(),
                item.negativePrompt() != null ? item.negativePrompt() : base.negativePrompt());
        if (item.seed() != null) o = o.withSeed(item.seed());
        if (item.maxDuration() != null) o = o.withMaxDurationSec(item.maxDuration());
        return o;
    }

    private String key(BatchItem item, GenerationOptions o) {
        return BatchJournal.key(item.video().toString(), item.out().toString(), o.toString(), model.toString(),
                precision.name(), String.valueOf(keepVideo));
    }

    int run(Video2AudioPipeline pipeline) {
        long start = System.nanoTime();
        List<Outcome> outcomes = new ArrayList<>();
        try (BatchJournal journal = BatchJournal.open(journalDir)) {
            int n = items.size();
            // decided up front, so the ETA counts only the items that will run
            String[] skip = new String[n];
            int toRun = 0;
            for (int i = 0; i < n; i++) {
                BatchItem it = items.get(i);
                if (journal.finished(key(it, options(it)), it.out())) skip[i] = "done in an earlier run";
                else if (skipExisting && Files.exists(it.out())) skip[i] = "output exists";
                else toRun++;
            }
            int ran = 0;
            long runNanos = 0;
            for (int i = 0; i < n; i++) {
                BatchItem it = items.get(i);
                String tag = String.format(Locale.ROOT, "[%d/%d]", i + 1, n);
                if (skip[i] != null) {
                    outcomes.add(new Outcome(it, Status.SKIPPED, skip[i] + " (" + it.out() + ")"));
                    err.printf("v2a: %s %s: skipped, %s%n", tag, it.source(), skip[i]);
                    continue;
                }
                String eta = ran == 0 ? "--" : ProgressBar.format(Duration.ofNanos(runNanos / ran * (toRun - ran)));
                err.printf("v2a: %s %s -> %s (batch: %d of %d to generate, ETA %s)%n", tag, it.source(), it.out(),
                        ran + 1, toRun, eta);
                GenerationOptions o = options(it);
                String key = key(it, o);
                long t0 = System.nanoTime();
                try {
                    removeTemporaries(it.out());
                    journal.started(key, it, Files.exists(it.out()));
                    progress.prefix(tag + " ");
                    VideoResult r = pipeline.generateVideo(
                            VideoJob.of(it.video(), it.out()).withKeepVideo(keepVideo).withOverwrite(overwrite), o,
                            progress, () -> false, Trace.OFF);
                    double took = (System.nanoTime() - t0) / 1e9;
                    journal.done(key, it, r.audioSeconds(), took);
                    String what = String.format(Locale.ROOT, "wrote %s (%.2f s of audio) in %s", it.out(),
                            r.audioSeconds(), ProgressBar.format(r.total()));
                    outcomes.add(new Outcome(it, Status.DONE, what));
                    err.printf("v2a: %s done: %s%n", tag, what);
                } catch (RuntimeException | OutOfMemoryError e) {
                    String reason = Main.oneLine(e);
                    journal.failed(key, it, reason);
                    outcomes.add(new Outcome(it, Status.FAILED, reason));
                    err.printf("v2a: %s %s: failed: %s%n", tag, it.source(), reason);
                } finally {
                    progress.prefix("");
                }
                ran++;
                runNanos += System.nanoTime() - t0;
            }
            printSummary(outcomes, Duration.ofNanos(System.nanoTime() - start), journal.file());
        }
        return outcomes.stream().anyMatch(o -> o.status() == Status.FAILED) ? 1 : 0;
    }

    private void printSummary(List<Outcome> outcomes, Duration took, Path journal) {
        long done = outcomes.stream().filter(o -> o.status() == Status.DONE).count();
        long failed = outcomes.stream().filter(o -> o.status() == Status.FAILED).count();
        long skipped = outcomes.stream().filter(o -> o.status() == Status.SKIPPED).count();
        out.printf("v2a: batch of %d: %d done, %d failed, %d skipped in %s (journal %s)%n", outcomes.size(), done,
                failed, skipped, ProgressBar.format(took), journal);
        for (Status s : Status.values()) {
            for (Outcome o : outcomes) {
                if (o.status() == s) {
                    out.printf("  %-7s %s: %s%n", s.name().toLowerCase(Locale.ROOT), o.item().source(), o.detail());
                }
            }
        }
    }

    /**
     * Deletes the hidden temporary files a killed run left beside {@code target} ({@code .<name>.<n>.part…}, see
     * {@link io.github.v2a4j.pipeline.OutputFiles}); a finished output is never among them.
     */
    static void removeTemporaries(Path target) {
        Path dir = target.toAbsolutePath().getParent();
        if (dir == null || !Files.isDirectory(dir)) return;
        Pattern mine = Pattern.compile("\\.+" + Pattern.quote(target.getFileName().toString()) + "\\.\\d+\\.part.*");
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.filter(p -> mine.matcher(p.getFileName().toString()).matches()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(dir + ": cannot remove temporary files: " + e.getMessage(), e);
        }
    }
}
