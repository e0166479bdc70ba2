package io.github.v2a4j.synthetic;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.v2a4j.synthetic.UpstreamCheckpoints.Shape;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.LongConsumer;
import java.util.stream.Stream;

/**
 * The synthetic upstream folders of {@code v2a rehearse} in one directory, kept for the next run: writing the
 * full-size ones takes minutes (30 GB). {@code DIR/kandinsky-4-v2a} and {@code DIR/cogvlm2-video-llama3-chat} are
 * written by {@link UpstreamCheckpoints}, then {@code DIR/}{@value #MARKER} says what they hold: this format's
 * {@link #VERSION}, the scale, the layer counts, the seed and every file with its size. A later request for the same
 * reuses them when the marker says the same and every file is there with its size; anything else (another shape, a
 * write that was interrupted before the marker) deletes the two folders and writes them again.
 */
public final class ReusableCheckpoints {
    private ReusableCheckpoints() {}

    public static final String MARKER = "synthetic-checkpoints.json";
    /** Raised whenever {@link SyntheticWeights}' values or {@link UpstreamCheckpoints}' layouts change. */
    public static final int VERSION = 1;
    static final String KANDINSKY = "kandinsky-4-v2a";
    static final String COGVLM = "cogvlm2-video-llama3-chat";

    /** @param reused true when the folders were already there, else they took {@code took} to write */
    public record Result(Path kandinsky, Path cogvlm, boolean reused, long bytes, Duration took) {}

    public static Path kandinsky(Path dir) {
        return dir.resolve(KANDINSKY);
    }

    public static Path cogvlm(Path dir) {
        return dir.resolve(COGVLM);
    }

    /** Whether {@code dir} holds complete folders of this shape and seed (marker and every file size checked). */
    public static boolean holds(Path dir, Shape shape, long seed) {
        Path marker = dir.resolve(MARKER);
        if (!Files.isRegularFile(marker)) return false;
        try {
            JsonObject m = JsonParser.parseString(Files.readString(marker)).getAsJsonObject();
            JsonObject want = describe(shape, seed);
            for (String key : want.keySet()) {
                if (!want.get(key).equals(m.get(key))) return false;
            }
            JsonObject files = m.getAsJsonObject("files");
            if (files == null || files.size() == 0) return false;
            Map<String, Long> present = files(dir);
            if (present.size() != files.size()) return false;
            for (String f : files.keySet()) {
                if (!Long.valueOf(files.get(f).getAsLong()).equals(present.get(f))) return false;
            }
            return true;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /**
     * Reuses or (re)writes the folders in {@code dir} (created if absent).
     *
     * @param written hears the bytes of tensor data as they reach the disk (progress)
     */
    public static Result ensure(Path dir, Shape shape, long seed, LongConsumer written) {
        if (holds(dir, shape, seed)) {
            return new Result(kandinsky(dir), cogvlm(dir), true, total(dir), Duration.ZERO);
        }
        long t0 = System.nanoTime();
        try {
            Files.createDirectories(dir);
            Files.deleteIfExists(dir.resolve(MARKER));
            deleteTree(kandinsky(dir));
            deleteTree(cogvlm(dir));
            UpstreamCheckpoints.write(kandinsky(dir), cogvlm(dir), shape, seed, written);
            JsonObject m = describe(shape, seed);
            JsonObject files = new JsonObject();
            files(dir).forEach(files::addProperty);
            m.add("files", files);
            Path tmp = dir.resolve(MARKER + ".tmp");
            Files.writeString(tmp, new GsonBuilder().setPrettyPrinting().create().toJson(m) + "\n");
            Files.move(tmp, dir.resolve(MARKER), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException(dir + ": cannot write the synthetic checkpoints (" + e.getMessage() + ")", e);
        }
        return new Result(kandinsky(dir), cogvlm(dir), false, total(dir), Duration.ofNanos(System.nanoTime() - t0));
    }

    private static JsonObject describe(Shape shape, long seed) {
        JsonObject m = new JsonObject();
        m.addProperty("format", "v2a4j-synthetic-checkpoints");
        m.addProperty("version", VERSION);
        m.addProperty("scale", shape.scale().name().toLowerCase(Locale.ROOT));
        m.addProperty("vision_layers", shape.visionLayers());
        m.addProperty("decoder_layers", shape.decoderLayers());
        m.addProperty("seed", seed);
        return m;
    }

    /** Every file of the two folders, relative to {@code dir}, with its size. */
    private static Map<String, Long> files(Path dir) throws IOException {
        Map<String, Long> out = new TreeMap<>();
        for (Path folder : new Path[] {kandinsky(dir), cogvlm(dir)}) {
            if (!Files.isDirectory(folder)) continue;
            try (Stream<Path> s = Files.walk(folder)) {
                for (Path p : s.filter(Files::isRegularFile).toList()) {
                    out.put(dir.relativize(p).toString().replace('\\', '/'), Files.size(p));
                }
            }
        }
        return out;
    }

    private static long total(Path dir) {
        try {
            return files(dir).values().stream().mapToLong(Long::longValue).sum();
        } catch (IOException e) {
            throw new UncheckedIOException(dir + ": cannot list the synthetic checkpoints", e);
        }
    }

    private static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) return;
        Files.walkFileTree(p, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
                Files.delete(d);
                return FileVisitResult.CONTINUE;
            }
        });
    }
}
