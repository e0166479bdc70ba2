package io.github.v2a4j.synthetic;

import io.github.v2a4j.io.SafetensorsException;
import io.github.v2a4j.io.TensorInfo;
import io.github.v2a4j.io.TensorSource;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeSet;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A checkpoint of synthetic F32 weights with the given names and shapes (a model's {@code parameterShapes}), each made
 * by {@link SyntheticWeights} the first time it is asked for and kept until {@link #close()}: a model loads from it
 * as from a file, with no file.
 */
public final class SyntheticSource implements TensorSource {

    private final Map<String, long[]> shapes;
    private final SyntheticWeights weights;
    private final long seed;
    private final Map<String, INDArray> made = new LinkedHashMap<>();

    public SyntheticSource(Map<String, long[]> shapes, long seed) {
        this.shapes = new LinkedHashMap<>(shapes);
        this.weights = new SyntheticWeights(seed);
        this.seed = seed;
    }

    /** Elements over all tensors. */
    public long parameterCount() {
        long n = 0;
        for (long[] s : shapes.values()) {
            long e = 1;
            for (long d : s) e *= d;
            n += e;
        }
        return n;
    }

    @Override
    public SortedSet<String> names() {
        return Collections.unmodifiableSortedSet(new TreeSet<>(shapes.keySet()));
    }

    @Override
    public boolean contains(String name) {
        return shapes.containsKey(name);
    }

    @Override
    public TensorInfo info(String name) {
        long[] shape = shape(name);
        long n = 4;
        for (long d : shape) n *= d;
        return new TensorInfo(name, null, "F32", shape.clone(), 0, n);
    }

    @Override
    public synchronized INDArray mapped(String name) {
        return made.computeIfAbsent(name, n -> weights.tensor(n, shape(n)));
    }

    @Override
    public INDArray loadFloat(String name) {
        return mapped(name).dup();
    }

    private long[] shape(String name) {
        long[] s = shapes.get(name);
        if (s == null) throw new SafetensorsException(this + ": no tensor '" + name + "'");
        return s;
    }

    /** Frees every tensor made. */
    @Override
    public synchronized void close() {
        made.values().forEach(INDArray::close);
        made.clear();
    }

    @Override
    public String toString() {
        return "synthetic weights (seed " + seed + ")";
    }
}
