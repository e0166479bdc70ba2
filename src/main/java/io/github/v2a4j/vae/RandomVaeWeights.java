package io.github.v2a4j.vae;

import java.nio.FloatBuffer;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.IntStream;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Reproducible random decoder weights of the right names and shapes (benchmarks and tests): convolution and
 * projection weights with variance 1/fan_in so activations keep a sane scale through the 30 layers, biases and
 * GroupNorm shifts with standard deviation 0.1, GroupNorm scales 1 ± that.
 *
 * <p>Values are uniform (same variance as the Gaussian they stand in for) from a counter-based hash of (seed, tensor,
 * index), filled in parallel: {@code Nd4j.randn} after {@code setSeed} is NOT reproducible across JVMs in ND4J M2.1
 * (measured: different sums in two runs), so a benchmark checksum could not be compared between runs.
 */
public final class RandomVaeWeights {
    private RandomVaeWeights() {}

    public static Map<String, INDArray> create(VaeConfig config, long seed) {
        Map<String, INDArray> out = new LinkedHashMap<>();
        long tensor = 0;
        for (Map.Entry<String, long[]> e : VaeDecoder.parameterShapes(config).entrySet()) {
            long[] shape = e.getValue();
            double std;
            double mean = 0;
            if (shape.length > 1) {
                long fanIn = 1;
                for (int i = 1; i < shape.length; i++) fanIn *= shape[i];
                std = 1.0 / Math.sqrt(fanIn);
            } else {
                std = 0.1;
                if (e.getKey().endsWith(".weight")) mean = 1.0; // GroupNorm scale
            }
            INDArray t = Nd4j.createUninitialized(DataType.FLOAT, shape);
            fill(t.data().asNioFloat(), (int) t.length(), seed, tensor++, mean, std);
            out.put(e.getKey(), t);
        }
        return out;
    }

    /** {@code n} values with the given mean and standard deviation, a pure function of (seed, stream, index). */
    public static float[] uniform(long seed, long stream, int n, double mean, double std) {
        float[] v = new float[n];
        fill(FloatBuffer.wrap(v), n, seed, stream, mean, std);
        return v;
    }

    /** Fills straight into the (native) buffer: no heap copy of the 200 MB of weights is left behind. */
    private static void fill(FloatBuffer target, int n, long seed, long stream, double mean, double std) {
        double halfWidth = Math.sqrt(3.0) * std;
        long base = mix(seed * 0x9E3779B97F4A7C15L + stream);
        IntStream.range(0, (n + 4095) / 4096).parallel().forEach(block -> {
            FloatBuffer v = target.duplicate();
            int end = Math.min(n, (block + 1) * 4096);
            for (int i = block * 4096; i < end; i++) {
                double u = (mix(base + i) >>> 11) * 0x1.0p-53; // [0, 1)
                v.put(i, (float) (mean + (2 * u - 1) * halfWidth));
            }
        });
    }

    /** splitmix64 finaliser. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
