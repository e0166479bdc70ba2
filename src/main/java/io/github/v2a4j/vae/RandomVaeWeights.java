package io.github.v2a4j.vae;

import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Seeded random decoder weights of the right names and shapes (benchmarks and tests): convolution and projection
 * weights N(0, 1/fan_in) so activations keep a sane scale through the 30 layers, biases and GroupNorm shifts
 * N(0, 0.1²), GroupNorm scales 1 + N(0, 0.1²).
 */
public final class RandomVaeWeights {
    private RandomVaeWeights() {}

    public static Map<String, INDArray> create(VaeConfig config, long seed) {
        Nd4j.getRandom().setSeed(seed);
        Map<String, INDArray> out = new LinkedHashMap<>();
        for (Map.Entry<String, long[]> e : VaeDecoder.parameterShapes(config).entrySet()) {
            long[] shape = e.getValue();
            INDArray t = Nd4j.randn(DataType.FLOAT, shape);
            if (shape.length > 1) {
                long fanIn = 1;
                for (int i = 1; i < shape.length; i++) fanIn *= shape[i];
                t.muli(1.0 / Math.sqrt(fanIn));
            } else {
                t.muli(0.1);
                if (isNormScale(e.getKey())) t.addi(1.0);
            }
            out.put(e.getKey(), t);
        }
        return out;
    }

    private static boolean isNormScale(String name) {
        return name.endsWith(".weight") && (name.contains("norm"));
    }
}
