package io.github.v2a4j.serve;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The work directory: {@code jobs/<id>/} holds one accepted job ({@code input}, {@code options.json},
 * {@code state.json}, results under {@code out/}); {@code staging/} holds uploads still arriving and jobs being
 * deleted, and is emptied at every start.
 *
 * <p>Every file is written to a temporary name, flushed to the disk and renamed over the old one, and a job appears
 * in {@code jobs/} only by renaming its complete staging folder: a crash at any moment leaves each job either whole
 * or absent, never half-written. Names under the work directory are only ever the server's own UUIDs.
 */
final class JobStore {
    private static final Logger LOG = LoggerFactory.getLogger(JobStore.class);
    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().create();

    static final String INPUT = "input";
    static final String OPTIONS = "options.json";
    static final String STATE = "state.json";
    static final String OUT = "out";

    /** A job as found on disk at startup. */
    record Stored(JobStatus status, JobOptions options) {}

    private final Path root;
    private final Path jobs;
    private final Path staging;

    JobStore(Path workDir) throws IOException {
        this.root = workDir.toAbsolutePath().normalize();
        this.jobs = root.resolve("jobs");
        this.staging = root.resolve("staging");
        Files.createDirectories(jobs);
        Files.createDirectories(staging);
        if (!Files.isWritable(jobs)) throw new IOException(jobs + ": not writable");
        try (Stream<Path> s = Files.list(staging)) {
            for (Path p : s.toList()) deleteTree(p); // uploads cut off by a crash: never accepted
        }
    }

    Path root() {
        return root;
    }

    /** A new empty staging folder for an upload. */
    Path newStaging(UUID id) throws IOException {
        return Files.createDirectory(staging.resolve(id.toString()));
    }

    /** Writes the job's options and state into its staging folder, then moves the folder into {@code jobs/}. */
    void commit(Path stagingDir, JobStatus status, JobOptions options) throws IOException {
        writeAtomically(stagingDir.resolve(OPTIONS), GSON.toJson(options));
        writeAtomically(stagingDir.resolve(STATE), GSON.toJson(status));
        Files.createDirectory(stagingDir.resolve(OUT));
        Files.move(stagingDir, jobs.resolve(status.id()), StandardCopyOption.ATOMIC_MOVE);
        fsync(jobs);
    }

    void save(JobStatus status) throws IOException {
        writeAtomically(dir(status.id()).resolve(STATE), GSON.toJson(status));
    }

    Path input(UUID id) {
        return dir(id.toString()).resolve(INPUT);
    }

    Path out(UUID id) {
        return dir(id.toString()).resolve(OUT);
    }

    /** Removes what a run may have left in {@code out/} (an interrupted run's files, or its temporary files). */
    void clearOutputs(UUID id) throws IOException {
        Path out = out(id);
        if (Files.isDirectory(out)) deleteTree(out);
        Files.createDirectories(out);
    }

    void deleteInput(UUID id) throws IOException {
        Files.deleteIfExists(input(id));
    }

    /** Removes a job: first out of {@code jobs/} in one rename, then its files. */
    void delete(UUID id) throws IOException {
        Path gone = staging.resolve(id + ".deleted");
        try {
            Files.move(dir(id.toString()), gone, StandardCopyOption.ATOMIC_MOVE);
        } catch (NoSuchFileException e) {
            return;
        }
        deleteTree(gone);
    }

    /** Removes an upload that did not become a job. */
    void discard(Path stagingDir) {
        try {
            deleteTree(stagingDir);
        } catch (IOException e) {
            LOG.warn("cannot remove {}: {} (it is removed at the next start)", stagingDir, e.getMessage());
        }
    }

    long usableSpace() throws IOException {
        return Files.getFileStore(jobs).getUsableSpace();
    }

    /** Every job in {@code jobs/}; a folder that is not a readable job is reported and left alone. */
    List<Stored> load() throws IOException {
        List<Stored> found = new ArrayList<>();
        try (Stream<Path> s = Files.list(jobs)) {
            for (Path d : s.sorted().toList()) {
                String name = d.getFileName().toString();
                try {
                    if (!UUID.fromString(name).toString().equals(name)) throw new IllegalArgumentException();
                    JobStatus st = GSON.fromJson(Files.readString(d.resolve(STATE)), JobStatus.class);
                    JobOptions o = GSON.fromJson(Files.readString(d.resolve(OPTIONS)), JobOptions.class);
                    if (st == null || o == null || !name.equals(st.id()) || st.state() == null) {
                        throw new IOException("incomplete state");
                    }
                    found.add(new Stored(st, o)); // Gson builds records through their constructors: o is checked
                } catch (IOException | RuntimeException e) {
                    LOG.warn("{}: not a job folder v2a can read ({}); left as it is", d, e.getMessage());
                }
            }
        }
        return found;
    }

    private Path dir(String id) {
        return jobs.resolve(id);
    }

    /** Temporary file beside {@code target}, flushed to the disk, then renamed over it. */
    static void writeAtomically(Path target, String text) throws IOException {
        Path tmp = Files.createTempFile(target.getParent(), "." + target.getFileName(), ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ByteBuffer b = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
                while (b.hasRemaining()) ch.write(b);
                ch.force(true);
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Makes a rename in {@code dir} durable (best effort: not every file system lets a directory be flushed). */
    private static void fsync(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            LOG.debug("cannot flush directory {}: {}", dir, e.getMessage());
        }
    }

    private static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) return;
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(q);
        }
    }
}
