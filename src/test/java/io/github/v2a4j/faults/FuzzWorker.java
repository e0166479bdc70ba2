package io.github.v2a4j.faults;

import io.github.v2a4j.cli.Main;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;

/**
 * The child JVM of the fuzz: runs {@code v2a} command lines one after the other, as the launcher would run each,
 * and reports each on stdout as {@code START id} then {@code RESULT id exit millis base64(stderr)}. A native crash
 * ends the process: the last {@code START} names the case. A case that runs past its limit ends the process with
 * exit 99 after {@code HANG id}.
 *
 * <p>Arguments: the plan file (one case a line: id, then the command line, tab-separated) and the limit per case in
 * seconds.
 */
public final class FuzzWorker {

    public static void main(String[] args) throws Exception {
        List<String> plan = Files.readAllLines(Path.of(args[0]), StandardCharsets.UTF_8);
        long limitMillis = Long.parseLong(args[1]) * 1000;
        PrintStream report = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true,
                StandardCharsets.UTF_8);
        Watchdog dog = new Watchdog(report, limitMillis);
        dog.start();
        for (String line : plan) {
            if (line.isBlank()) continue;
            String[] f = line.split("\t");
            String id = f[0];
            String[] cli = Arrays.copyOfRange(f, 1, f.length);
            report.println("START\t" + id);
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            PrintStream oldOut = System.out;
            PrintStream oldErr = System.err;
            System.setOut(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            long t0 = System.nanoTime();
            dog.begin(id);
            int exit;
            try {
                exit = Main.commandLine().setErr(new PrintWriter(System.err, true)).execute(cli);
            } catch (Throwable t) {
                t.printStackTrace(System.err);
                exit = 70; // escaped picocli's handlers: reported as a failure of the case
            } finally {
                dog.end();
                System.setOut(oldOut);
                System.setErr(oldErr);
            }
            long ms = (System.nanoTime() - t0) / 1_000_000;
            report.println("RESULT\t" + id + "\t" + exit + "\t" + ms + "\t"
                    + Base64.getEncoder().encodeToString(err.toByteArray()));
            System.gc();
        }
        report.println("DONE");
        System.exit(0);
    }

    /** Ends the process when one case runs past the limit: a hang must not stall the whole fuzz. */
    private static final class Watchdog extends Thread {
        private final PrintStream report;
        private final long limitMillis;
        private volatile String current;
        private volatile long started;

        Watchdog(PrintStream report, long limitMillis) {
            super("fuzz-watchdog");
            setDaemon(true);
            this.report = report;
            this.limitMillis = limitMillis;
        }

        void begin(String id) {
            started = System.currentTimeMillis();
            current = id;
        }

        void end() {
            current = null;
        }

        @Override
        public void run() {
            while (true) {
                String id = current;
                if (id != null && System.currentTimeMillis() - started > limitMillis) {
                    report.println("HANG\t" + id);
                    Runtime.getRuntime().halt(99);
                }
                try {
                    Thread.sleep(200);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }
}
