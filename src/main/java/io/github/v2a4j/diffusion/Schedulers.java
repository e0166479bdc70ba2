package io.github.v2a4j.diffusion;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * The schedulers v2a4j implements, by diffusers class name, and how a model's {@code scheduler_config.json} picks one.
 * A name may also be given without its {@code Scheduler} suffix, in any case ({@code ddim}, {@code PNDM}).
 */
public final class Schedulers {

    private static final Map<String, Function<JsonObject, Scheduler>> KNOWN = new LinkedHashMap<>();

    static {
        // one line per scheduler
        KNOWN.put(PndmScheduler.NAME, PndmScheduler::fromConfig);
        KNOWN.put(DdimScheduler.NAME, DdimScheduler::fromConfig);
    }

    private Schedulers() {}

    /** The class names, in registration order. */
    public static Set<String> names() {
        return KNOWN.keySet();
    }

    /**
     * The scheduler {@code name} (null: the config's {@code _class_name}) built from {@code config}, as diffusers'
     * {@code from_config} builds it.
     */
    public static Scheduler create(JsonObject config, String name) {
        String wanted = name != null ? name
                : config.has("_class_name") ? config.get("_class_name").getAsString() : null;
        if (wanted == null) {
            throw new IllegalArgumentException("the scheduler config names no _class_name; choose one of " + names());
        }
        return KNOWN.get(resolve(wanted)).apply(config);
    }

    /** The registered class name {@code name} stands for; an unknown name is an error listing the known ones. */
    public static String resolve(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        for (String k : KNOWN.keySet()) {
            String lower = k.toLowerCase(Locale.ROOT);
            if (lower.equals(n) || lower.equals(n + "scheduler")) return k;
        }
        throw new IllegalArgumentException("unknown scheduler '" + name + "' (known: " + String.join(", ", names())
                + ")");
    }

    /** A {@code scheduler_config.json} file as a JSON object. */
    public static JsonObject readConfig(Path file) {
        try {
            return JsonParser.parseString(Files.readString(file)).getAsJsonObject();
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("cannot read scheduler config " + file + ": " + e.getMessage(), e);
        }
    }
}
