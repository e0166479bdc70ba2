package io.github.v2a4j.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * One output file written under a hidden temporary name beside it, {@code .<name>.<pid>-<n>.part}, and renamed into
 * place only when complete, so a reader never sees half a file.
 *
 * <ul>
 *   <li>A JVM that exits early (an exception, Ctrl-C, SIGTERM) deletes its temporary files: every open one is
 *       registered with a shutdown hook until it is committed or closed.
 *   <li>A run killed outright (SIGKILL, power loss) cannot clean up; the next write of the same output deletes the
 *       {@code .part} files whose process is gone, before it starts.
 *   <li>The temporary file is created as any new file is ({@code 0666} less the umask), so every output gets the
 *       same permissions whoever wrote it.
 * </ul>
 */
public final class OutputFile implements AutoCloseable {

    /** Writes a temporary file. */
    @FunctionalInterface
    public interface Body {
        void write(Path tmp) throws Exception;
    }

    private static final Object LOCK = new Object();
    private static final Set<Path> PENDING = new LinkedHashSet<>();
    private static boolean exiting;
    private static boolean ownerFinishes;
    private static long counter;

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(OutputFile::deletePending, "v2a-output-cleanup"));
    }

    private final Path target;
    private final Path tmp;
    private boolean finished;

    private OutputFile(Path target, Path tmp) {
        this.target = target;
        this.tmp = tmp;
    }

    /**
     * Sweeps stale temporary files of {@code target} and creates a new, empty temporary file beside it. Fails (naming
     * the file) if the directory is missing or not writable, or if the JVM is already exiting.
     */
    public static OutputFile create(Path target) {
        Path abs = target.toAbsolutePath().normalize();
        Path dir = abs.getParent();
        if (dir == null || !Files.isDirectory(dir)) {
            throw new UncheckedIOException(new IOException(target + ": no such directory " + dir));
        }
        sweepStale(abs);
        synchronized (LOCK) {
            if (exiting) throw new IllegalStateException(target + ": not written, the program is exiting");
            long pid = ProcessHandle.current().pid();
            while (true) {
                Path tmp = dir.resolve("." + abs.getFileName() + "." + pid + "-" + (counter++) + ".part");
                try {
                    Files.createFile(tmp);
                } catch (FileAlreadyExistsException e) {
                    continue;
                } catch (IOException e) {
                    throw new UncheckedIOException(target + ": cannot create a file in " + dir + " ("
                            + e.getMessage() + ")", e);
                }
                PENDING.add(tmp);
                return new OutputFile(abs, tmp);
            }
        }
    }

    /**
     * Writes {@code target} through {@code body} on a temporary file and renames it into place; on any failure the
     * temporary file is removed and {@code target} is left as it was.
     *
     * @param replace whether an existing {@code target} may be replaced
     */
    public static void write(Path target, boolean replace, Body body) throws Exception {
        try (OutputFile f = create(target)) {
            body.write(f.tmp());
            f.commit(replace);
        }
    }

    /**
     * For a process whose own shutdown hook lets running work finish or stops it (a server): from now on the shutdown
     * hook leaves temporary files alone and commits go on, so work that ends within the owner's grace period is
     * written whole, and work the owner stops deletes its files through {@link #close}. Files of a process killed
     * outright are still swept by the next write of the same output.
     */
    public static void leaveShutdownToOwner() {
        synchronized (LOCK) {
            ownerFinishes = true;
        }
    }

    /** The temporary file to write. */
    public Path tmp() {
        return tmp;
    }

    public Path target() {
        return target;
    }

    /** Renames the temporary file to the target (atomically where the file system can). */
    public void commit(boolean replace) throws IOException {
        synchronized (LOCK) {
            if (finished) throw new IllegalStateException(target + ": already committed or closed");
            if (exiting) throw new IOException(target + ": not written, the program is exiting");
            if (!replace && Files.exists(target)) {
                throw new FileAlreadyExistsException(target + ": already exists (use --overwrite to replace it)");
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
            finished = true;
            PENDING.remove(tmp);
        }
    }

    /** Without a preceding {@link #commit}, deletes the temporary file. */
    @Override
    public void close() {
        synchronized (LOCK) {
            if (finished) return;
            finished = true;
            PENDING.remove(tmp);
            deleteQuietly(tmp);
        }
    }

    private static final Pattern PART = Pattern.compile("\\.(.+)\\.(\\d+)(?:-\\d+)?\\.part");

    /**
     * Deletes the temporary files of {@code target} left by processes that no longer run (killed before they could
     * clean up) and returns how many. Temporary files of live processes, this one included, are left alone.
     */
    public static int sweepStale(Path target) {
        Path abs = target.toAbsolutePath().normalize();
        Path dir = abs.getParent();
        String name = abs.getFileName().toString();
        List<Path> stale = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir)) {
            s.forEach(p -> {
                Matcher m = PART.matcher(p.getFileName().toString());
                if (m.matches() && m.group(1).equals(name) && !alive(m.group(2))) stale.add(p);
            });
        } catch (IOException | UncheckedIOException e) {
            return 0; // an unlistable directory fails later, when the file is created
        }
        synchronized (LOCK) {
            stale.removeAll(PENDING);
        }
        stale.forEach(OutputFile::deleteQuietly);
        return stale.size();
    }

    private static boolean alive(String pid) {
        try {
            long id = Long.parseLong(pid);
            if (id == ProcessHandle.current().pid()) return true;
            return ProcessHandle.of(id).map(ProcessHandle::isAlive).orElse(false);
        } catch (NumberFormatException e) {
            return false; // wider than any pid: a random suffix from another writer's temp file, abandoned
        }
    }

    /**
     * The shutdown hook. The thread that was writing keeps running while hooks run, and a writer that opens its file
     * by name (FFmpeg does, right after {@link #create}) would create it again after one deletion; so the files are
     * deleted repeatedly before the JVM halts: for at least {@link #GRACE_MIN_NANOS}, and on until every writer that
     * had a file open has closed it (its commit is refused, so its close deletes the file), at most
     * {@link #GRACE_MAX_NANOS}: under load a writer can open its file later than the minimum. No new temporary file
     * can be created and none committed once this has begun.
     */
    private static void deletePending() {
        List<Path> files;
        synchronized (LOCK) {
            if (ownerFinishes) return;
            exiting = true;
            files = new ArrayList<>(PENDING);
        }
        long start = System.nanoTime();
        while (true) {
            files.forEach(OutputFile::deleteQuietly);
            long elapsed = System.nanoTime() - start;
            if (elapsed >= GRACE_MAX_NANOS || (elapsed >= GRACE_MIN_NANOS && !anyPending(files))) break;
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                break;
            }
        }
        files.forEach(OutputFile::deleteQuietly);
    }

    private static boolean anyPending(List<Path> files) {
        synchronized (LOCK) {
            for (Path p : files) if (PENDING.contains(p)) return true;
            return false;
        }
    }

    private static final long GRACE_MIN_NANOS = 300_000_000L;
    private static final long GRACE_MAX_NANOS = 5_000_000_000L;

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // best effort: a leftover is hidden, ends in .part and is swept by the next write of the same output
        }
    }
}
