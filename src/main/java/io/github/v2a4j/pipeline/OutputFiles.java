package io.github.v2a4j.pipeline;

import io.github.v2a4j.io.OutputFile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Output files of one job, written all or nothing: each is first written to a hidden temporary file beside its
 * target ({@link OutputFile}), and only when every one is complete are they renamed into place. A failure or
 * cancellation deletes the temporary files, and so does Ctrl-C or SIGTERM ({@link OutputFile}'s shutdown hook), so no
 * output is ever half-written; temporary files of an earlier run that was killed outright are swept before writing.
 */
public final class OutputFiles implements AutoCloseable {

    /** Writes one output's content to the given (temporary) file. */
    @FunctionalInterface
    public interface Writer {
        void write(Path file) throws IOException;
    }

    private final boolean overwrite;
    private final Map<Path, OutputFile> staged = new LinkedHashMap<>();
    private boolean committed;

    public OutputFiles(boolean overwrite) {
        this.overwrite = overwrite;
    }

    /**
     * Fails before any work when {@code target} could not be written: its directory is missing or not writable, it
     * is a directory, it exists (unless overwriting), or it is {@code input} itself.
     */
    public static void check(Path target, Path input, boolean overwrite) {
        Path abs = target.toAbsolutePath().normalize();
        try {
            if (input != null && Files.exists(abs) && Files.isSameFile(abs, input)) {
                throw new IllegalArgumentException(target + ": output would overwrite the input video");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(target + ": cannot compare with the input", e);
        }
        if (Files.isDirectory(abs)) throw new IllegalArgumentException(target + ": is a directory");
        if (Files.exists(abs) && !overwrite) {
            throw new IllegalArgumentException(target + ": already exists (use --overwrite to replace it)");
        }
        Path dir = abs.getParent();
        if (dir == null || !Files.isDirectory(dir)) {
            throw new IllegalArgumentException(target + ": no such directory " + dir);
        }
        if (!Files.isWritable(dir)) throw new IllegalArgumentException(target + ": directory " + dir + " is not writable");
    }

    /** Writes {@code target}'s content to its temporary file now; it replaces {@code target} at {@link #commit}. */
    public void stage(Path target, Writer writer) {
        Path abs = target.toAbsolutePath().normalize();
        OutputFile file = OutputFile.create(abs);
        OutputFile previous = staged.put(abs, file);
        if (previous != null) previous.close();
        try {
            writer.write(file.tmp());
        } catch (IOException e) {
            throw new UncheckedIOException(target + ": cannot write: " + e.getMessage(), e);
        }
    }

    /** Renames every staged file into place. */
    public void commit() {
        for (Path target : staged.keySet()) {
            if (!overwrite && Files.exists(target)) {
                throw new IllegalArgumentException(target + ": appeared while generating; not replaced");
            }
        }
        List<Path> moved = new ArrayList<>();
        try {
            for (Map.Entry<Path, OutputFile> e : staged.entrySet()) {
                e.getValue().commit(true);
                moved.add(e.getKey());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot move outputs into place (done: " + moved + "): " + e.getMessage(), e);
        }
        committed = true;
    }

    /** Deletes whatever was staged and not committed. */
    @Override
    public void close() {
        if (committed) return;
        staged.values().forEach(OutputFile::close);
    }
}
