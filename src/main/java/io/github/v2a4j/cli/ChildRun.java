package io.github.v2a4j.cli;

import io.github.v2a4j.pipeline.ProcessMemory;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * One {@code v2a} command run in a child JVM of the same jar and flags (what a user typing the command gets), its
 * output copied to a log file and, indented, to {@code echo}; its resident memory sampled from
 * {@code /proc/PID/status} every {@value #SAMPLE_MILLIS} ms: the largest anonymous and file-backed samples and the
 * last {@code VmHWM} read (the kernel's exact peak, up to the last sample's age).
 *
 * @param exit      the exit code (128 + signal when a signal ended it: 137 is a SIGKILL, e.g. the OOM killer's)
 * @param errorLine the command's last {@code v2a: error:} line, or its last line of output, for a failed run
 */
record ChildRun(int exit, Duration wall, long peakAnonymousBytes, long peakFileBytes, long peakBytes,
                String errorLine) {

    static final long SAMPLE_MILLIS = 250;

    boolean ok() {
        return exit == 0;
    }

    /** Why it failed, in a few words. */
    String failure() {
        String why = exit == 137 ? "killed (SIGKILL: out of memory?)" : exit > 128 ? "killed by signal " + (exit - 128)
                : "exit " + exit;
        return errorLine == null || errorLine.isBlank() ? why : why + ": " + errorLine;
    }

    /** Runs {@code v2a args...} and waits for it. */
    static ChildRun run(List<String> args, Path log, PrintStream echo) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse(
                Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(Main.class.getName());
        cmd.addAll(args);
        Files.createDirectories(log.toAbsolutePath().getParent());
        long t0 = System.nanoTime();
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        long[] peaks = new long[3];
        Thread sampler = new Thread(() -> {
            while (p.isAlive()) {
                ProcessMemory.of(p.pid()).ifPresent(m -> {
                    synchronized (peaks) {
                        peaks[0] = Math.max(peaks[0], m.anonymousBytes());
                        peaks[1] = Math.max(peaks[1], m.fileBytes());
                        peaks[2] = Math.max(peaks[2], m.peakBytes());
                    }
                });
                try {
                    Thread.sleep(SAMPLE_MILLIS);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "v2a-rehearse-memory");
        sampler.setDaemon(true);
        sampler.start();
        String last = null;
        String error = null;
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
             PrintWriter w = new PrintWriter(Files.newBufferedWriter(log, StandardCharsets.UTF_8))) {
            w.println("# " + String.join(" ", args));
            for (String line; (line = r.readLine()) != null; ) {
                w.println(line);
                w.flush();
                echo.println("    " + line);
                if (!line.isBlank()) last = line;
                if (line.startsWith("v2a: error:")) error = line.substring("v2a: error:".length()).trim();
            }
        }
        int exit = p.waitFor();
        Duration wall = Duration.ofNanos(System.nanoTime() - t0);
        sampler.interrupt();
        sampler.join();
        synchronized (peaks) {
            return new ChildRun(exit, wall, peaks[0], peaks[1], peaks[2], error != null ? error : last);
        }
    }
}
