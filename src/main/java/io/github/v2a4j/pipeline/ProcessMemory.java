package io.github.v2a4j.pipeline;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A process's resident memory as Linux reports it in {@code /proc/PID/status}: anonymous ({@code RssAnon}: the
 * native and Java heaps, activations, converted weights), file-backed ({@code RssFile}: mapped weight files and
 * code), shared memory ({@code RssShmem}), and the peak of their sum since the process started ({@code VmHWM}).
 * Mapped F32 weights count as file-backed: the kernel can drop those pages again, so they are not the same pressure
 * on the machine as anonymous memory.
 */
public record ProcessMemory(long anonymousBytes, long fileBytes, long shmemBytes, long peakBytes) {

    /** This process now; empty without {@code /proc} (not Linux). */
    public static Optional<ProcessMemory> self() {
        return read(Path.of("/proc/self/status"));
    }

    /** Process {@code pid} now; empty once it has ended, or without {@code /proc}. */
    public static Optional<ProcessMemory> of(long pid) {
        return read(Path.of("/proc/" + pid + "/status"));
    }

    /** {@code RssAnon + RssFile + RssShmem}: what {@code VmRSS} says. */
    public long residentBytes() {
        return anonymousBytes + fileBytes + shmemBytes;
    }

    static Optional<ProcessMemory> read(Path status) {
        try {
            return Optional.ofNullable(parse(Files.readString(status)));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** The four fields of a {@code status} file's text (kB values), or null when one is missing. */
    static ProcessMemory parse(String status) {
        long anon = -1;
        long file = -1;
        long shmem = -1;
        long peak = -1;
        for (String line : status.split("\n")) {
            if (line.startsWith("RssAnon:")) anon = kb(line);
            else if (line.startsWith("RssFile:")) file = kb(line);
            else if (line.startsWith("RssShmem:")) shmem = kb(line);
            else if (line.startsWith("VmHWM:")) peak = kb(line);
        }
        if (anon < 0 || file < 0 || shmem < 0 || peak < 0) return null;
        return new ProcessMemory(anon, file, shmem, peak);
    }

    private static long kb(String line) {
        return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
    }
}
