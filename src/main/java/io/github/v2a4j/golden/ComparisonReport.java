package io.github.v2a4j.golden;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The outcome of a {@link Comparison}: one row per compared tensor in execution order. The first row over its
 * tolerance is where to look: later failures usually inherit its error.
 */
public final class ComparisonReport {

    /** Rows shown before the first failure in the short format, so its inputs' errors are visible. */
    private static final int CONTEXT = 3;
    private static final int NAME_WIDTH = 72;

    /**
     * One compared tensor. {@code canonical} is the stored name when {@code name} is an alias, else null.
     * Metrics are NaN when the shapes differ.
     */
    public record Row(String name, String canonical, long[] shape, long[] refShape, double maxAbsErr,
                      double maxAbsRef, double relToMax, double cosine, Tolerance tolerance, boolean passed,
                      String note) {}

    private final String component;
    private final String caseName;
    private final List<Row> rows;
    private final List<String> missing;
    private final Map<String, Integer> skipped;
    private final List<String> ignored;
    private final List<Check> checks;

    /** A condition on the report as a whole: {@code value ≤ bound}, with why the bound is what it is. */
    public record Check(String label, double value, double bound, String reason) {
        public boolean passed() {
            return value <= bound;
        }
    }

    /**
     * @param missing reference tensors the Java side should have produced and did not (they fail the report)
     * @param skipped reasons for reference tensors the Java side does not produce on purpose, with their counts
     * @param ignored produced tensors the bundle does not hold
     */
    public ComparisonReport(String component, String caseName, List<Row> rows, List<String> missing,
                            Map<String, Integer> skipped, List<String> ignored) {
        this.component = component;
        this.caseName = caseName;
        this.rows = List.copyOf(rows);
        this.missing = List.copyOf(missing);
        this.skipped = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(skipped));
        this.ignored = List.copyOf(ignored);
        this.checks = List.of();
    }

    private ComparisonReport(ComparisonReport r, List<Check> checks) {
        this.component = r.component;
        this.caseName = r.caseName;
        this.rows = r.rows;
        this.missing = r.missing;
        this.skipped = r.skipped;
        this.ignored = r.ignored;
        this.checks = List.copyOf(checks);
    }

    /** This report with one more whole-report condition; it fails the report when not met. */
    public ComparisonReport withCheck(Check check) {
        List<Check> all = new ArrayList<>(checks);
        all.add(check);
        return new ComparisonReport(this, all);
    }

    public List<Check> checks() {
        return checks;
    }

    public String component() {
        return component;
    }

    public String caseName() {
        return caseName;
    }

    /** Compared tensors, in execution order (activations, then the call's outputs). */
    public List<Row> rows() {
        return rows;
    }

    /**
     * Reference tensors the Java side did not produce although its validator did not declare them as skipped: a
     * layer that is no longer traced. Any of them fails the report.
     */
    public List<String> missing() {
        return missing;
    }

    /** Reference tensors not produced on purpose: reason → how many. */
    public Map<String, Integer> skipped() {
        return skipped;
    }

    /** Names the Java side produced that the bundle does not hold (ignored). */
    public List<String> ignored() {
        return ignored;
    }

    /**
     * True when at least one tensor was compared, every compared tensor is within its tolerance, and no reference
     * tensor is missing.
     */
    public boolean passed() {
        return !rows.isEmpty() && missing.isEmpty() && rows.stream().allMatch(Row::passed)
                && checks.stream().allMatch(Check::passed);
    }

    public Optional<Row> firstFailure() {
        return rows.stream().filter(r -> !r.passed()).findFirst();
    }

    public long failures() {
        return rows.stream().filter(r -> !r.passed()).count();
    }

    /** The full table. */
    public String format() {
        return format(true);
    }

    /**
     * The table; unless {@code allRows}, passing rows are left out except a few before the first failure and the
     * last row (usually the final output).
     */
    public String format(boolean allRows) {
        StringBuilder sb = new StringBuilder();
        int firstFail = -1;
        for (int i = 0; i < rows.size() && firstFail < 0; i++) if (!rows.get(i).passed()) firstFail = i;
        sb.append(String.format(Locale.ROOT, "%s / %s: %d tensors compared, %d over tolerance%s: %s%n", component,
                caseName, rows.size(), failures(), missing.isEmpty() ? "" : ", " + missing.size() + " missing",
                passed() ? "PASS" : "FAIL"));
        if (rows.isEmpty()) {
            sb.append("no tensor was compared: the Java side produced none of the bundle's names\n");
        } else {
            Row worst = worstAgainstTolerance();
            sb.append(String.format(Locale.ROOT, "closest to its tolerance: %s, err/max|ref| %s (tol %s)%n",
                    label(worst), sci(worst.relToMax()), sci(worst.tolerance().maxRelToMax())));
            int nameWidth = Math.min(NAME_WIDTH, Math.max(6, rows.stream().mapToInt(r -> label(r).length()).max()
                    .orElse(6)));
            sb.append(String.format(Locale.ROOT, "%5s  %-" + nameWidth + "s  %-18s %10s %10s %12s %10s %8s  %s%n",
                    "#", "tensor", "shape", "max|err|", "max|ref|", "err/max|ref|", "cosine", "tol", "result"));
            int hidden = 0;
            for (int i = 0; i < rows.size(); i++) {
                Row r = rows.get(i);
                boolean show = allRows || !r.passed() || i == rows.size() - 1
                        || (firstFail >= 0 && i >= firstFail - CONTEXT && i < firstFail);
                if (!show) {
                    hidden++;
                    continue;
                }
                if (hidden > 0) {
                    sb.append(String.format(Locale.ROOT, "%5s  ... %d passing rows (--all-rows shows them)%n", "",
                            hidden));
                    hidden = 0;
                }
                sb.append(String.format(Locale.ROOT, "%5d  %-" + nameWidth + "s  %-18s %10s %10s %12s %10s %8s  %s%n",
                        i + 1, fit(label(r), nameWidth), shape(r.shape()), sci(r.maxAbsErr()), sci(r.maxAbsRef()),
                        sci(r.relToMax()), Double.isNaN(r.cosine()) ? "-" : String.format(Locale.ROOT, "%.7f",
                                r.cosine()), sci(r.tolerance().maxRelToMax()), result(r, i == firstFail)));
            }
        }
        Map<Tolerance, List<Integer>> byTol = new LinkedHashMap<>();
        for (int i = 0; i < rows.size(); i++) {
            byTol.computeIfAbsent(rows.get(i).tolerance(), t -> new ArrayList<>()).add(i + 1);
        }
        if (!byTol.isEmpty()) sb.append("tolerances (err/max|ref|):\n");
        byTol.forEach((t, idx) -> sb.append(String.format(Locale.ROOT, "  %-8s %s (%d rows)%n",
                sci(t.maxRelToMax()), t.reason(), idx.size())));
        for (Check c : checks) {
            sb.append(String.format(Locale.ROOT, "%s: %s ≤ %s: %s (%s)%n", c.label(), sci(c.value()), sci(c.bound()),
                    c.passed() ? "ok" : "FAIL", c.reason()));
        }
        if (!missing.isEmpty()) {
            sb.append(String.format(Locale.ROOT, "FAIL: %d reference tensors were not produced by the Java side: "
                    + "%s%n", missing.size(), preview(missing)));
        }
        skipped.forEach((reason, n) -> sb.append(String.format(Locale.ROOT,
                "%d reference tensors not compared on purpose: %s%n", n, reason)));
        if (!ignored.isEmpty()) {
            sb.append(String.format(Locale.ROOT, "%d produced tensors not in the bundle (ignored): %s%n",
                    ignored.size(), preview(ignored)));
        }
        return sb.toString();
    }

    /** The row with the largest error relative to its own tolerance; shape mismatches count as worst. */
    private Row worstAgainstTolerance() {
        Row worst = rows.get(0);
        double w = -1;
        for (Row r : rows) {
            double q = Double.isNaN(r.relToMax()) ? Double.POSITIVE_INFINITY
                    : r.tolerance().maxRelToMax() == 0 ? (r.relToMax() == 0 ? 0 : Double.POSITIVE_INFINITY)
                    : r.relToMax() / r.tolerance().maxRelToMax();
            if (q > w) {
                w = q;
                worst = r;
            }
        }
        return worst;
    }

    private static String label(Row r) {
        return r.canonical() == null ? r.name() : r.name() + " (= " + r.canonical() + ")";
    }

    private static String result(Row r, boolean first) {
        String s = r.passed() ? "ok" : "FAIL";
        if (!r.note().isEmpty()) s += " (" + r.note() + ")";
        if (first) s += "  <== FIRST FAILURE";
        return s;
    }

    /** Long module paths keep their informative tail. */
    private static String fit(String s, int width) {
        return s.length() <= width ? s : "…" + s.substring(s.length() - width + 1);
    }

    private static String shape(long[] s) {
        return Arrays.toString(s).replace(" ", "");
    }

    private static String sci(double v) {
        if (Double.isNaN(v)) return "-";
        if (Double.isInfinite(v)) return "inf";
        return String.format(Locale.ROOT, "%.2e", v);
    }

    private static String preview(List<String> names) {
        List<String> shown = names.subList(0, Math.min(8, names.size()));
        String s = String.join(", ", shown);
        return names.size() > shown.size() ? s + ", … " + (names.size() - shown.size()) + " more" : s;
    }

    @Override
    public String toString() {
        return format(false);
    }
}
