package io.github.v2a4j.faults;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * Child JVMs for what only a separate process shows: a native crash (exit 134 or 139), a hang, output FFmpeg writes
 * straight to file descriptor 2, and what a signal leaves behind. Every child is bounded by a timeout and killed
 * when it runs past it.
 */
public final class Processes {

    private Processes() {}

    /** A finished child: exit status ({@code -1} when it had to be killed), stdout, stderr. */
    public record Run(int exit, String output, String err, boolean timedOut) {
        public boolean crashed() {
            return exit == 134 || exit == 139 || exit == 136 || exit == 135; // SIGABRT, SIGSEGV, SIGFPE, SIGBUS
        }
    }

    /** {@code java <jvm flags> -cp <test class path> args...}, as the launcher runs the CLI. */
    public static List<String> java(List<String> mainAndArgs) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xmx1g");
        cmd.add("-Dorg.bytedeco.javacpp.maxphysicalbytes=0");
        cmd.add("-Dai.djl.offline=true");
        cmd.add("-cp");
        cmd.add(System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")));
        cmd.addAll(mainAndArgs);
        return cmd;
    }

    static ProcessBuilder builder(List<String> mainAndArgs, Map<String, String> env) {
        ProcessBuilder pb = new ProcessBuilder(java(mainAndArgs));
        pb.environment().put("OMP_WAIT_POLICY", "PASSIVE");
        pb.environment().putAll(env);
        return pb;
    }

    /** Runs a child JVM to its end, or kills it after {@code timeoutSec}. */
    public static Run run(List<String> mainAndArgs, Map<String, String> env, long timeoutSec) throws Exception {
        Process p = builder(mainAndArgs, env).start();
        CompletableFuture<String> out = drain(p.getInputStream());
        CompletableFuture<String> err = drain(p.getErrorStream());
        return finish(p, out, err, timeoutSec);
    }

    /**
     * Starts a child JVM, waits until a line of its stdout or stderr matches {@code ready}, sends {@code signal}
     * ({@code INT} or {@code TERM}) and waits for it to end. If it ends before, the signal is not sent.
     */
    public static Run signalWhen(List<String> mainAndArgs, Map<String, String> env, Predicate<String> ready,
                                 String signal, long timeoutSec) throws Exception {
        Process p = builder(mainAndArgs, env).start();
        CompletableFuture<Void> fired = new CompletableFuture<>();
        Consumer<String> onLine = line -> {
            synchronized (fired) {
                if (!fired.isDone() && ready.test(line)) {
                    send(p.pid(), signal);
                    fired.complete(null);
                }
            }
        };
        CompletableFuture<String> out = drain(p.getInputStream(), onLine);
        CompletableFuture<String> err = drain(p.getErrorStream(), onLine);
        return finish(p, out, err, timeoutSec);
    }

    /** {@link #signalWhen} for a line containing {@code marker}. */
    public static Run signalWhenReady(List<String> mainAndArgs, String marker, String signal, long timeoutSec)
            throws Exception {
        return signalWhen(mainAndArgs, Map.of(), l -> l.contains(marker), signal, timeoutSec);
    }

    public static int signalNumber(String signal) {
        return switch (signal) {
            case "INT" -> 2;
            case "TERM" -> 15;
            default -> throw new IllegalArgumentException(signal);
        };
    }

    /** The pid of a process that has ended. */
    public static long deadPid() throws Exception {
        Process p = new ProcessBuilder("true").start();
        p.waitFor();
        return p.pid();
    }

    private static void send(long pid, String signal) {
        try {
            new ProcessBuilder("kill", "-s", signal, Long.toString(pid)).inheritIO().start().waitFor();
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException("cannot send SIG" + signal + " to " + pid, e);
        }
    }

    private static Run finish(Process p, CompletableFuture<String> out, CompletableFuture<String> err, long timeoutSec)
            throws Exception {
        boolean ended = p.waitFor(timeoutSec, TimeUnit.SECONDS);
        if (!ended) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            p.waitFor(30, TimeUnit.SECONDS);
        }
        return new Run(ended ? p.exitValue() : -1, out.get(30, TimeUnit.SECONDS), err.get(30, TimeUnit.SECONDS),
                !ended);
    }

    private static CompletableFuture<String> drain(InputStream in) {
        return drain(in, l -> { });
    }

    private static CompletableFuture<String> drain(InputStream in, Consumer<String> onLine) {
        return CompletableFuture.supplyAsync(() -> {
            StringBuilder sb = new StringBuilder();
            try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    sb.append(line).append('\n');
                    onLine.accept(line);
                }
            } catch (IOException e) {
                sb.append("[read failed: ").append(e.getMessage()).append("]\n");
            }
            return sb.toString();
        }, runnable -> {
            Thread t = new Thread(runnable, "child-output");
            t.setDaemon(true);
            t.start();
        });
    }
}
