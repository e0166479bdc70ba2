package io.github.v2a4j.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** What a benchmark prints about the machine it ran on: this process's memory and the load of a shared machine. */
public final class Machine {
    private Machine() {}

    /** A memory line of {@code /proc/self/status} ({@code VmRSS}, {@code VmHWM}: peak) in GB; NaN without /proc. */
    public static double memoryGb(String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(field + ":")) return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024 / 1e9;
            }
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
        return Double.NaN;
    }

    /** The 1, 5 and 15 minute load averages, or "n/a". */
    public static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException | RuntimeException e) {
            return "n/a";
        }
    }
}
