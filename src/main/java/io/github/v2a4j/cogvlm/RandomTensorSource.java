package io.github.v2a4j.cogvlm;

import io.github.v2a4j.io.SafetensorsException;
import io.github.v2a4j.io.TensorInfo;
import io.github.v2a4j.io.TensorSource;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeSet;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * In-memory random F32 weights for benchmarks at real widths: uniform in ±√(3/fan_in) (unit-variance outputs of
 * every projection, so activations stay O(1) through a layer), norm scales 1, {@code inv_freq} the real RoPE table.
 * Filled with ND4J's seeded uniform generator, about 1 s per GB.
 */
final class RandomTensorSource implements TensorSource {

    private final Map<String, INDArray> arrays = new LinkedHashMap<>();

    RandomTensorSource(Map<String, long[]> shapes, long seed) {
        Nd4j.getRandom().setSeed(seed);
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            String name = e.getKey();
            long[] shape = e.getValue();
            INDArray a;
            if (name.endsWith("rotary_emb.inv_freq")) {
                int half = (int) shape[0];
                float[] f = new float[half];
                for (int j = 0; j < half; j++) f[j] = 1.0f / (float) Math.pow(CogVlmConfig.ROPE_BASE, (float) (2 * j) / (2 * half));
                a = Nd4j.create(f);
            } else if (shape.length == 1 && (name.contains("norm") && name.endsWith(".weight"))) {
                a = Nd4j.ones(DataType.FLOAT, shape);
            } else {
                long fanIn = 1;
                for (int i = 1; i < shape.length; i++) fanIn *= shape[i];
                double bound = shape.length >= 2 ? Math.sqrt(3.0 / fanIn) : 0.1;
                a = Nd4j.rand(DataType.FLOAT, shape).subi(0.5).muli(2 * bound);
            }
            arrays.put(name, a);
        }
    }

    @Override
    public SortedSet<String> names() {
        return new TreeSet<>(arrays.keySet());
    }

    @Override
    public boolean contains(String name) {
        return arrays.containsKey(name);
    }

    @Override
    public TensorInfo info(String name) {
        INDArray a = arrays.get(name);
        if (a == null) throw new SafetensorsException("random weights: no tensor " + name);
        return new TensorInfo(name, null, "F32", a.shape(), 0, a.length() * 4);
    }

    @Override
    public INDArray mapped(String name) {
        INDArray a = arrays.get(name);
        if (a == null) throw new SafetensorsException("random weights: no tensor " + name);
        return a;
    }

    @Override
    public INDArray loadFloat(String name) {
        return mapped(name).dup();
    }

    @Override
    public void close() {
        for (INDArray a : arrays.values()) Release.free(a);
        arrays.clear();
    }
}
