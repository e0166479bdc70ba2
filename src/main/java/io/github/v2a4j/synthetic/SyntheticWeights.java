package io.github.v2a4j.synthetic;

import io.github.v2a4j.cogvlm.CogVlmConfig;
import java.nio.charset.StandardCharsets;
import java.util.stream.LongStream;
import org.bytedeco.javacpp.FloatPointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Deterministic synthetic weights, scaled like a trained model's, for benchmarks, the demo model and synthetic
 * checkpoints of any size.
 *
 * <p>Element {@code i} of tensor {@code name} is a pure function of (seed, name, i): a hash, not a sequential
 * generator, so any tensor or any slice of one can be made on its own, in any order and in parallel, and two runs
 * (or two JVMs) make the same bits. Values by what the name says the tensor is:
 * <ul>
 *   <li>RoPE {@code inv_freq}: the real table {@code 1/500000^(2j/d)};</li>
 *   <li>1-D {@code *.weight} (norm scales): 1 with spread {@value #NORM_SPREAD};</li>
 *   <li>1-D {@code *.bias}: mean 0, spread {@value #BIAS_STD};</li>
 *   <li>everything else (projections, convolutions, embeddings): mean 0, standard deviation
 *       {@code max(0.02, 1/√fan_in)}: 0.02 (the init scale trained transformers keep) at real widths, and the
 *       unit-gain PyTorch scale at tiny widths, so that activations stay O(1) there too.</li>
 * </ul>
 * The noise is the sum of two 24-bit uniforms (triangular, bounded by ±2.45 standard deviations): finite, and no
 * non-zero magnitude below {@code 1.4e-7} standard deviations, so never a denormal.
 */
public final class SyntheticWeights {

    /** Standard deviation of projection weights at real widths. */
    static final double PROJECTION_STD = 0.02;
    /** Standard deviation of norm scales around 1. */
    static final double NORM_SPREAD = 0.02;
    /** Standard deviation of biases. */
    static final double BIAS_STD = 0.01;

    /** Elements per parallel task when a whole tensor is made. */
    private static final int CHUNK = 1 << 16;
    /** √6: the triangular sum of two uniforms minus 1 has variance 1/6. */
    private static final double UNIT = Math.sqrt(6.0);

    private final long seed;

    public SyntheticWeights(long seed) {
        this.seed = seed;
    }

    /** How the values of one tensor are made. */
    private record Init(long key, double mean, double std, int ropeLength) {}

    private Init init(String name, long[] shape) {
        long key = mix(seed ^ fnv64(name));
        if (name.endsWith("rotary_emb.inv_freq")) return new Init(key, 0, 0, (int) shape[0]);
        if (shape.length == 1 && name.endsWith("weight")) return new Init(key, 1, NORM_SPREAD, 0);
        if (shape.length == 1) return new Init(key, 0, BIAS_STD, 0);
        long fanIn = 1;
        for (int i = 1; i < shape.length; i++) fanIn *= shape[i];
        return new Init(key, 0, Math.max(PROJECTION_STD, 1 / Math.sqrt(Math.max(1, fanIn))), 0);
    }

    /** Elements {@code [first, first + n)} of tensor {@code name} of {@code shape} into {@code out[off..]}. */
    public void fill(String name, long[] shape, long first, float[] out, int off, int n) {
        fill(init(name, shape), first, out, off, n);
    }

    private static void fill(Init in, long first, float[] out, int off, int n) {
        if (in.ropeLength() > 0) {
            for (int i = 0; i < n; i++) {
                long j = first + i;
                out[off + i] = (float) (1.0 / Math.pow(CogVlmConfig.ROPE_BASE, (2.0 * j) / (2.0 * in.ropeLength())));
            }
            return;
        }
        for (int i = 0; i < n; i++) {
            long h = mix(in.key() + (first + i) * 0x9E3779B97F4A7C15L);
            double u = ((h >>> 40) + ((h >>> 16) & 0xFFFFFF)) * 0x1.0p-24 - 1;
            out[off + i] = (float) (in.mean() + in.std() * UNIT * u);
        }
    }

    /** The whole tensor as a new F32 array, made in parallel chunks. */
    public INDArray tensor(String name, long... shape) {
        return make(init(name, shape), shape);
    }

    /** A tensor of mean 0 and standard deviation {@code std} whatever its name says (inputs, latents). */
    public INDArray normal(String name, double std, long... shape) {
        return make(new Init(mix(seed ^ fnv64(name)), 0, std, 0), shape);
    }

    private static INDArray make(Init in, long[] shape) {
        INDArray a = Nd4j.createUninitialized(DataType.FLOAT, shape);
        long n = a.length();
        if (n == 0) return a;
        FloatPointer target = new FloatPointer(a.data().addressPointer());
        target.capacity(n);
        LongStream.range(0, (n + CHUNK - 1) / CHUNK).parallel().forEach(c -> {
            long first = c * CHUNK;
            int len = (int) Math.min(CHUNK, n - first);
            float[] v = new float[len];
            fill(in, first, v, 0, len);
            // getPointer, not position(): JavaCPP 1.5.7 builds a wrong buffer once position exceeds 2^31 bytes
            target.<FloatPointer>getPointer(first).put(v, 0, len);
        });
        return a;
    }

    private static long fnv64(String s) {
        long h = 0xcbf29ce484222325L;
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        return h;
    }

    /** splitmix64's finaliser. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
