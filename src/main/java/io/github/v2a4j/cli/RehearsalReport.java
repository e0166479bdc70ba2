package io.github.v2a4j.cli;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The figures of a rehearsal: one row per stage (the synthetic checkpoints, convert, each generate run and, indented
 * under it, each pipeline stage), printed as one table and written with the machine and the settings to
 * {@code rehearsal.json}. A figure that was not measured is NaN in Java, absent from the JSON and "-" in the table.
 */
final class RehearsalReport {

    /**
     * @param status          {@code ok}, {@code written}, {@code reused}, {@code cached}, {@code failed: …},
     *                        {@code not run}
     * @param flop            the stage's analytic FLOP ({@link StageFlops})
     * @param peakRssBytes    peak resident memory: the process's VmHWM for a process row, the largest sample for a
     *                        pipeline stage
     * @param diskBytes       bytes the stage left on disk
     */
    record Row(String stage, boolean substage, String status, double wallSeconds, double flop,
               double peakAnonymousBytes, double peakFileBytes, double peakRssBytes, double diskBytes) {

        double gflops() {
            return flop / wallSeconds / 1e9;
        }
    }

    private final List<Row> rows = new ArrayList<>();
    private final JsonObject machine;
    private final JsonObject settings;

    RehearsalReport(JsonObject machine, JsonObject settings) {
        this.machine = machine;
        this.settings = settings;
    }

    void add(Row r) {
        rows.add(r);
    }

    List<Row> rows() {
        return rows;
    }

    boolean failed() {
        return rows.stream().anyMatch(r -> r.status().startsWith("failed"));
    }

    /** The table: one line per row, GB and seconds. */
    String table() {
        StringBuilder sb = new StringBuilder();
        String head = String.format(Locale.ROOT, "%-28s %-9s %9s %10s %9s %9s %9s %9s %9s", "stage", "status",
                "wall", "FLOP", "GFLOP/s", "anon GB", "file GB", "peak GB", "disk GB");
        sb.append(head).append('\n').append("-".repeat(head.length())).append('\n');
        for (Row r : rows) {
            String status = r.status().startsWith("failed") ? "FAILED" : r.status();
            sb.append(String.format(Locale.ROOT, "%-28s %-9s %9s %10s %9s %9s %9s %9s %9s",
                    (r.substage() ? "  " : "") + r.stage(), status, seconds(r.wallSeconds()), flop(r.flop()),
                    r.flop() > 0 ? num(r.gflops(), "%.1f") : "-", gb(r.peakAnonymousBytes()), gb(r.peakFileBytes()),
                    gb(r.peakRssBytes()), gb(r.diskBytes())));
            sb.append('\n');
        }
        for (Row r : rows) {
            if (r.status().startsWith("failed")) sb.append(r.stage()).append(": ").append(r.status()).append('\n');
        }
        return sb.toString();
    }

    JsonObject json() {
        JsonObject o = new JsonObject();
        o.addProperty("format", "v2a4j-rehearsal");
        o.addProperty("version", 1);
        o.add("machine", machine);
        o.add("settings", settings);
        JsonArray stages = new JsonArray();
        for (Row r : rows) {
            JsonObject s = new JsonObject();
            s.addProperty("stage", r.stage());
            s.addProperty("substage", r.substage());
            s.addProperty("status", r.status());
            put(s, "wall_s", r.wallSeconds());
            put(s, "flop", r.flop());
            if (r.flop() > 0) put(s, "gflop_per_s", r.gflops());
            put(s, "peak_rss_anonymous_bytes", r.peakAnonymousBytes());
            put(s, "peak_rss_file_bytes", r.peakFileBytes());
            put(s, "peak_rss_bytes", r.peakRssBytes());
            put(s, "disk_bytes", r.diskBytes());
            stages.add(s);
        }
        o.add("stages", stages);
        return o;
    }

    /** Writes {@link #json()} to {@code file} through a temporary file. */
    void write(Path file) {
        try {
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            Files.writeString(tmp, new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues()
                    .create().toJson(json()) + "\n");
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot write (" + e.getMessage() + ")", e);
        }
    }

    private static void put(JsonObject o, String key, double v) {
        if (!Double.isFinite(v)) return;
        if (v == Math.rint(v) && Math.abs(v) < 1e15) o.addProperty(key, (long) v);
        else o.addProperty(key, v);
    }

    private static String seconds(double s) {
        if (!Double.isFinite(s)) return "-";
        long r = Math.round(s);
        if (r >= 60) return String.format(Locale.ROOT, "%dm%02ds", r / 60, r % 60);
        return String.format(Locale.ROOT, "%.1fs", s);
    }

    private static String flop(double f) {
        if (!Double.isFinite(f)) return "-";
        if (f == 0) return "0";
        if (f >= 1e12) return String.format(Locale.ROOT, "%.1fT", f / 1e12);
        if (f >= 1e9) return String.format(Locale.ROOT, "%.1fG", f / 1e9);
        return String.format(Locale.ROOT, "%.2fG", f / 1e9);
    }

    private static String gb(double bytes) {
        return num(bytes / 1e9, "%.2f");
    }

    private static String num(double v, String format) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, format, v) : "-";
    }
}
