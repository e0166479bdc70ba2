package io.github.v2a4j.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where v2a4j keeps what it can compute again (the black-video embedding, the stamps of checked weight files), and
 * the rule that a cache is only an optimisation: a cache that cannot be written costs time, never a run.
 *
 * <p>The folder, first match wins: an explicit one ({@code --cache-dir}); {@code $V2A_CACHE_DIR};
 * {@code <model>.v2a4j-cache} beside the model folder, when it can be created and written there; the user cache
 * folder {@code $XDG_CACHE_HOME/v2a4j} (default {@code ~/.cache/v2a4j}). Entries are keyed on content, so one folder
 * can serve several models.
 */
public final class CacheDir {

    public static final String ENV = "V2A_CACHE_DIR";
    /** The sub-folder of the cache that holds {@link WeightsCheck}'s stamps. */
    public static final String WEIGHT_STAMPS = "weights-checked";

    private static final Logger LOG = LoggerFactory.getLogger("v2a");
    private static final AtomicBoolean WARNED = new AtomicBoolean();

    private CacheDir() {}

    /** The cache folder for {@code modelDir} under the process environment. */
    public static Path choose(Path explicit, Path modelDir) {
        return choose(explicit, modelDir, System.getenv(), System.getProperty("user.home"));
    }

    /** As {@link #choose(Path, Path)} with the environment and home folder given (tests). */
    public static Path choose(Path explicit, Path modelDir, Map<String, String> env, String home) {
        if (explicit != null) return explicit;
        String fromEnv = env.get(ENV);
        if (fromEnv != null && !fromEnv.isBlank()) return Path.of(fromEnv);
        Path beside = besideModel(modelDir);
        if (usable(beside)) return beside;
        String xdg = env.get("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(home == null ? "." : home, ".cache");
        return base.resolve("v2a4j");
    }

    /** {@code <model dir>.v2a4j-cache}, the sibling of the model folder. */
    public static Path besideModel(Path modelDir) {
        Path abs = modelDir.toAbsolutePath().normalize();
        return abs.resolveSibling(abs.getFileName() + ".v2a4j-cache");
    }

    /** Whether files can be created in {@code dir} (made if missing): tried, not guessed from permission bits. */
    static boolean usable(Path dir) {
        try {
            Files.createDirectories(dir);
            Path probe = Files.createTempFile(dir, ".probe-", ".tmp");
            Files.delete(probe);
            return true;
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return false;
        }
    }

    /**
     * Reports a failed cache write (a warning on the {@code v2a} logger), once per process however many entries fail,
     * and lets the caller go on without the cache.
     */
    public static void warnOnce(Path dir, Exception e) {
        if (WARNED.getAndSet(true)) return;
        String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage().replaceAll("\\s+", " ");
        LOG.warn("cannot write to the cache folder {} ({}); going on without caching (choose another with "
                + "--cache-dir or ${})", dir, why, ENV);
    }
}
