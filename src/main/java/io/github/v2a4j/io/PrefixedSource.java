package io.github.v2a4j.io;

import java.util.SortedSet;
import java.util.TreeSet;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The tensors of another source whose names start with {@code prefix}, seen without it: a golden bundle stores one
 * pipeline's components side by side ({@code unet.conv_in.weight}, {@code vae.decoder.conv_in.weight}), while each
 * model reads its checkpoint's own names. Closing the view does not close the source.
 */
public final class PrefixedSource implements TensorSource {
    private final TensorSource source;
    private final String prefix;
    private final SortedSet<String> names = new TreeSet<>();

    public PrefixedSource(TensorSource source, String prefix) {
        this.source = source;
        this.prefix = prefix;
        for (String n : source.names()) {
            if (n.startsWith(prefix)) names.add(n.substring(prefix.length()));
        }
    }

    @Override
    public SortedSet<String> names() {
        return names;
    }

    @Override
    public boolean contains(String name) {
        return names.contains(name);
    }

    @Override
    public TensorInfo info(String name) {
        return source.info(prefix + name);
    }

    @Override
    public INDArray mapped(String name) {
        return source.mapped(prefix + name);
    }

    @Override
    public INDArray mappedAsStored(String name) {
        return source.mappedAsStored(prefix + name);
    }

    @Override
    public INDArray loadFloat(String name) {
        return source.loadFloat(prefix + name);
    }

    @Override
    public INDArray rows(String name, long[] rows) {
        return source.rows(prefix + name, rows);
    }

    @Override
    public void prefetch(Iterable<String> names) {
        java.util.List<String> full = new java.util.ArrayList<>();
        for (String n : names) full.add(prefix + n);
        source.prefetch(full);
    }

    @Override
    public void close() {}

    @Override
    public String toString() {
        return source + " (tensors " + prefix + "*)";
    }
}
