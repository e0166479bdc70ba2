package io.github.v2a4j.golden;

import com.google.gson.Gson;
import com.google.gson.JsonObject;
import io.github.v2a4j.io.SafetensorsWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Writes small bundles in the dump tool's format, for tests of the harness itself. */
public final class TestBundles {

    private TestBundles() {}

    /** Where the committed golden bundles are, relative to the repository root (the tests' working directory). */
    public static final Path COMMITTED = Path.of("reference-tests", "bundles");

    /**
     * {@code reference-tests/bundles/<name>}, which the repository holds: a missing one fails the calling test rather
     * than skipping it, so a deleted or misnamed bundle cannot silently switch its tests off.
     */
    public static Path committed(String name) {
        Path p = COMMITTED.resolve(name);
        if (!Files.isDirectory(p)) {
            throw new AssertionError("committed golden bundle " + p + " is missing (the repository holds it; "
                    + "regenerate it with reference-tests/regenerate.sh)");
        }
        return p;
    }

    public static Path write(Path dir, String component, Map<String, INDArray> activations, List<String> order,
                             Map<String, String> aliases, Map<String, INDArray> io) throws IOException {
        Files.createDirectories(dir);
        JsonObject m = new JsonObject();
        m.addProperty("component", component);
        m.addProperty("case", "test");
        m.add("order", new Gson().toJsonTree(order));
        m.add("aliases", new Gson().toJsonTree(aliases));
        m.addProperty("notes", "written by a unit test");
        Files.writeString(dir.resolve("manifest.json"), new Gson().toJson(m));
        Files.writeString(dir.resolve("config.json"), "{\"in_channels\": 4}");
        SafetensorsWriter acts = new SafetensorsWriter();
        activations.forEach(acts::put);
        acts.write(dir.resolve("activations.safetensors"));
        SafetensorsWriter ioW = new SafetensorsWriter();
        io.forEach(ioW::put);
        ioW.write(dir.resolve("io.safetensors"));
        new SafetensorsWriter().putFloat("conv.weight", new float[] {1, 2}, 2).write(dir.resolve("weights.safetensors"));
        return dir;
    }
}
