package io.github.v2a4j.audio;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** Minimal reader of a golden bundle's safetensors files (test helper; F32, F64, I16, I64, U8), aliases resolved. */
final class Bundle {
    final Path dir;
    final JsonObject manifest;
    private final Map<String, Object[]> tensors = new HashMap<>(); // name → {dtype, shape long[], ByteBuffer}

    static Path path(String name) {
        return io.github.v2a4j.golden.TestBundles.committed(name);
    }

    Bundle(String name) throws IOException {
        dir = path(name);
        manifest = JsonParser.parseString(Files.readString(dir.resolve("manifest.json"))).getAsJsonObject();
        for (String f : new String[] {"io.safetensors", "activations.safetensors"}) load(dir.resolve(f));
    }

    private void load(Path f) throws IOException {
        byte[] b = Files.readAllBytes(f);
        ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        int n = (int) bb.getLong(0);
        JsonObject h = JsonParser.parseString(new String(b, 8, n, java.nio.charset.StandardCharsets.UTF_8)).getAsJsonObject();
        for (String k : h.keySet()) {
            if (k.equals("__metadata__")) continue;
            JsonObject t = h.getAsJsonObject(k);
            long[] shape = t.getAsJsonArray("shape").asList().stream().mapToLong(e -> e.getAsLong()).toArray();
            int s = t.getAsJsonArray("data_offsets").get(0).getAsInt(), e = t.getAsJsonArray("data_offsets").get(1).getAsInt();
            ByteBuffer data = ByteBuffer.wrap(b, 8 + n + s, e - s).slice().order(ByteOrder.LITTLE_ENDIAN);
            tensors.put(k, new Object[] {t.get("dtype").getAsString(), shape, data});
        }
    }

    private Object[] get(String name) {
        Object[] t = tensors.get(name);
        if (t == null && manifest.has("aliases") && manifest.getAsJsonObject("aliases").has(name))
            t = tensors.get(manifest.getAsJsonObject("aliases").get(name).getAsString());
        if (t == null) throw new IllegalArgumentException(dir + ": no tensor " + name);
        return t;
    }

    boolean has(String name) {
        return tensors.containsKey(name) || (manifest.getAsJsonObject("aliases").has(name));
    }

    long[] shape(String name) {
        return (long[]) get(name)[1];
    }

    float[] f32(String name) {
        Object[] t = get(name);
        ByteBuffer d = ((ByteBuffer) t[2]).duplicate().order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[d.remaining() / 4];
        d.asFloatBuffer().get(out);
        return out;
    }

    short[] i16(String name) {
        ByteBuffer d = ((ByteBuffer) get(name)[2]).duplicate().order(ByteOrder.LITTLE_ENDIAN);
        short[] out = new short[d.remaining() / 2];
        d.asShortBuffer().get(out);
        return out;
    }

    byte[] u8(String name) {
        ByteBuffer d = ((ByteBuffer) get(name)[2]).duplicate();
        byte[] out = new byte[d.remaining()];
        d.get(out);
        return out;
    }

    double f64(String name) {
        return ((ByteBuffer) get(name)[2]).duplicate().order(ByteOrder.LITTLE_ENDIAN).getDouble(0);
    }

    long i64(String name) {
        return ((ByteBuffer) get(name)[2]).duplicate().order(ByteOrder.LITTLE_ENDIAN).getLong(0);
    }

    /** riffusion SpectrogramParams from config.json, read as {@code v2a validate} reads them. */
    SpectrogramParams params() throws IOException {
        try (io.github.v2a4j.golden.GoldenBundle b = io.github.v2a4j.golden.GoldenBundle.open(dir)) {
            return io.github.v2a4j.validate.GoldenAudioValidator.params(b);
        }
    }

    /** max |a − ref| / max |ref|. */
    static double relErr(float[] a, float[] ref) {
        if (a.length != ref.length) throw new AssertionError("length " + a.length + " != " + ref.length);
        double m = 0, e = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(ref[i]));
            e = Math.max(e, Math.abs(a[i] - ref[i]));
        }
        return e / m;
    }

    static double maxAbs(float[] a, float[] ref) {
        double e = 0;
        for (int i = 0; i < a.length; i++) e = Math.max(e, Math.abs(a[i] - ref[i]));
        return e;
    }
}
