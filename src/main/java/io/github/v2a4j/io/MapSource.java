package io.github.v2a4j.io;

import java.util.Map;
import java.util.SortedSet;
import java.util.TreeMap;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Named F32 arrays held in memory as a {@link TensorSource}: random-weight models, shape probes, tests. */
public final class MapSource implements TensorSource {
    private final TreeMap<String, INDArray> tensors;

    public MapSource(Map<String, INDArray> tensors) {
        this.tensors = new TreeMap<>(tensors);
    }

    /** A source with no tensors: building a model over it lists the tensors the model asks for. */
    public static MapSource empty() {
        return new MapSource(Map.of());
    }

    @Override
    public SortedSet<String> names() {
        return java.util.Collections.unmodifiableSortedSet(new java.util.TreeSet<>(tensors.keySet()));
    }

    @Override
    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    @Override
    public TensorInfo info(String name) {
        INDArray a = get(name);
        return new TensorInfo(name, null, "F32", a.shape(), 0, a.length() * 4);
    }

    @Override
    public INDArray mapped(String name) {
        INDArray a = get(name);
        return a.dataType() == DataType.FLOAT ? a : a.castTo(DataType.FLOAT);
    }

    @Override
    public INDArray loadFloat(String name) {
        return get(name).castTo(DataType.FLOAT).dup('c');
    }

    private INDArray get(String name) {
        INDArray a = tensors.get(name);
        if (a == null) throw new SafetensorsException("no tensor '" + name + "' in memory");
        return a;
    }

    @Override
    public String toString() {
        return "tensors in memory";
    }

    @Override
    public void close() {}
}
