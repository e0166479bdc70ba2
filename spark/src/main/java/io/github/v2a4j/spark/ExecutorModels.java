package io.github.v2a4j.spark;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The models of one executor JVM: each model directory is opened by the first task that needs it and kept for the
 * JVM's life, so every later task of the executor reuses it.
 *
 * <p>Generations on one model run one at a time: ND4J already spreads one generation over the executor's cores, and
 * the pipeline is not made for concurrent calls. {@link SparkSettings} asks Spark for one task per executor at a time
 * ({@code spark.task.cpus} = executor cores), so the lock is only contended when a user overrides that.
 */
final class ExecutorModels {

    private static final Logger LOG = LoggerFactory.getLogger(ExecutorModels.class);

    /** Guarded by itself: the generator, once opened. */
    private static final class Slot {
        ClipGenerator generator;
    }

    private static final Map<Path, Slot> SLOTS = new ConcurrentHashMap<>();
    private static final AtomicInteger OPENED = new AtomicInteger();

    static {
        // Executor JVMs are started by Spark, not by the launcher: set what the launcher passes before JavaCPP loads.
        // maxphysicalbytes=0: JavaCPP would otherwise count the memory-mapped weights against a limit of 3x the heap.
        setIfAbsent("org.bytedeco.javacpp.maxphysicalbytes", "0");
        // the tokenizer's native library is inside its jar; never try to download one
        setIfAbsent("ai.djl.offline", "true");
    }

    private ExecutorModels() {}

    private static void setIfAbsent(String key, String value) {
        if (System.getProperty(key) == null) System.setProperty(key, value);
    }

    /**
     * Generates one clip on the model at {@code modelDir}, opening the model first if this JVM has not. The call that
     * opened it reports the opening as stage {@code open_model}.
     */
    static ClipGenerator.Result generate(Path modelDir, Path localVideo, Path localOut, ItemOptions options) {
        Slot slot = SLOTS.computeIfAbsent(modelDir.toAbsolutePath().normalize(), k -> new Slot());
        synchronized (slot) {
            double openSeconds = -1;
            if (slot.generator == null) {
                long t0 = System.nanoTime();
                slot.generator = PipelineClipGenerator.open(writableView(modelDir));
                OPENED.incrementAndGet();
                openSeconds = (System.nanoTime() - t0) / 1e9;
                LOG.info("opened model {} in {} s (OMP_NUM_THREADS={})", modelDir, String.format("%.1f", openSeconds),
                        System.getenv("OMP_NUM_THREADS"));
            }
            ClipGenerator.Result r = slot.generator.generate(localVideo, localOut, options);
            if (openSeconds < 0) return r;
            Map<String, Double> stages = new LinkedHashMap<>();
            stages.put("open_model", openSeconds);
            stages.putAll(r.stageSeconds());
            return new ClipGenerator.Result(r.audioSeconds(), stages);
        }
    }

    /**
     * The model folder, or when the folder beside it cannot be written (a read-only share), a link to it in this
     * JVM's temporary folder. The pipeline keeps its cache (the black-video embedding, the weight-check stamps) beside
     * the model folder ({@code <model>.v2a4j-cache}) when it can, else in the user's cache folder; through the link
     * the cache lands in the temporary folder, at the cost of one black-video pass and one weight check per executor
     * instead of one per shared cache.
     */
    static Path writableView(Path modelDir) {
        Path abs = modelDir.toAbsolutePath().normalize();
        Path parent = abs.getParent();
        if (parent == null || Files.isWritable(parent)) return modelDir;
        try {
            Path dir = Files.createDirectories(Path.of(System.getProperty("java.io.tmpdir"), "v2a4j-models",
                    Integer.toHexString(abs.toString().hashCode())));
            Path link = dir.resolve(abs.getFileName().toString());
            try {
                Files.createSymbolicLink(link, abs);
            } catch (FileAlreadyExistsException e) {
                // another executor of this node made it
            }
            LOG.info("{} is read-only: the black-video cache goes to {}.v2a4j-cache", parent, link);
            return link;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot link the model " + abs + " into a writable folder", e);
        }
    }

    /** How many times this JVM has opened a model: once per model directory when all is well. */
    static int opened() {
        return OPENED.get();
    }
}
