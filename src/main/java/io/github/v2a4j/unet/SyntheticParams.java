package io.github.v2a4j.unet;

import java.nio.FloatBuffer;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.IntStream;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Random parameters with the real names and shapes, made on request: benchmarks at real size without a checkpoint
 * (1.04 B parameters, 4.15 GB fp32). Values are uniform ±1/√fan_in (torch's default Linear/Conv init bound), norm
 * scales 1 ± 0.1, biases ±0.02 — so activations stay in a realistic range. Filled by a seeded xorshift per 1 M-float
 * chunk, in parallel: the whole UNet takes a few seconds.
 */
public final class SyntheticParams implements Params {
    private static final int CHUNK = 1 << 20;
    /** One chunk buffer per thread: a fresh float[] per chunk would leave gigabytes of heap garbage behind. */
    private static final ThreadLocal<float[]> BUF = ThreadLocal.withInitial(() -> new float[CHUNK]);

    private final long seed;
    private final String prefix;
    private final Map<String, INDArray> made;

    public SyntheticParams(long seed) {
        this(seed, "", new LinkedHashMap<>());
    }

    private SyntheticParams(long seed, String prefix, Map<String, INDArray> made) {
        this.seed = seed;
        this.prefix = prefix;
        this.made = made;
    }

    /** Every tensor handed out so far, by full upstream name. */
    public Map<String, INDArray> tensors() {
        return made;
    }

    @Override
    public Params at(String path) {
        return new SyntheticParams(seed, prefix + path + ".", made);
    }

    @Override
    public INDArray get(String local, long... shape) {
        String name = prefix + local;
        long fanIn = 1;
        for (int i = 1; i < shape.length; i++) fanIn *= shape[i];
        final float offset, scale;
        if (shape.length == 1 && local.endsWith("weight")) {        // GroupNorm / LayerNorm scale
            offset = 1f;
            scale = 0.1f;
        } else if (shape.length == 1) {                               // bias
            offset = 0f;
            scale = 0.02f;
        } else {
            offset = 0f;
            scale = (float) (1 / Math.sqrt(fanIn));
        }
        INDArray a = Nd4j.createUninitialized(DataType.FLOAT, shape);
        FloatBuffer fb = a.data().asNioFloat();
        long n = a.length();
        int chunks = (int) ((n + CHUNK - 1) / CHUNK);
        long base = seed * 0x9E3779B97F4A7C15L ^ name.hashCode();
        IntStream.range(0, chunks).parallel().forEach(c -> {
            int from = c * CHUNK;
            int len = (int) Math.min(CHUNK, n - from);
            float[] v = BUF.get();
            long s = mix(base + c);
            for (int i = 0; i < len; i++) {
                s ^= s << 13;
                s ^= s >>> 7;
                s ^= s << 17;
                // top 24 bits → [-1, 1)
                v[i] = offset + scale * (((s >>> 40) * 0x1.0p-23f) - 1f);
            }
            fb.duplicate().position(from).put(v, 0, len);
        });
        made.put(name, a);
        return a;
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z = z ^ (z >>> 31);
        return z == 0 ? 0x2545F4914F6CDD1DL : z;
    }
}
