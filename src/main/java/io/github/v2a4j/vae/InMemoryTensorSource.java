package io.github.v2a4j.vae;

import io.github.v2a4j.io.SafetensorsException;
import io.github.v2a4j.io.TensorInfo;
import io.github.v2a4j.io.TensorSource;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A {@link TensorSource} over tensors held in memory (random-weight benchmarks, renamed copies in tests). Generic
 * enough for the io package; kept here until one exists there.
 */
public final class InMemoryTensorSource implements TensorSource {
    private final TreeMap<String, INDArray> tensors;

    public InMemoryTensorSource(Map<String, INDArray> tensors) {
        this.tensors = new TreeMap<>(tensors);
    }

    @Override
    public SortedSet<String> names() {
        return new TreeSet<>(tensors.keySet());
    }

    @Override
    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    @Override
    public TensorInfo info(String name) {
        INDArray t = get(name);
        long bytes = t.length() * 4;
        return new TensorInfo(name, null, "F32", t.shape(), 0, bytes);
    }

    @Override
    public INDArray mapped(String name) {
        INDArray t = get(name);
        return t.dataType() == DataType.FLOAT ? t : t.castTo(DataType.FLOAT);
    }

    @Override
    public INDArray loadFloat(String name) {
        return get(name).castTo(DataType.FLOAT).dup('c');
    }

    @Override
    public void close() {}

    private INDArray get(String name) {
        INDArray t = tensors.get(name);
        if (t == null) throw new SafetensorsException("in-memory tensors: no tensor " + name);
        return t;
    }
}
