package io.github.v2a4j.unet;

import io.github.v2a4j.nn.Binder;
import io.github.v2a4j.nn.Buffers;
import io.github.v2a4j.nn.Gemm;
import io.github.v2a4j.nn.Linear;
import io.github.v2a4j.nn.NN;
import io.github.v2a4j.nn.Trace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * diffusers FeedForward with GEGLU: {@code net.0.proj} C → 8C, split the last dim into {@code [a | g]} (4C each),
 * {@code a · GELU_exact(g)}, then {@code net.2} 4C → C.
 *
 * <p>The two halves of {@code net.0.proj} are two GEMMs; the second applies the exact GELU and multiplies by the
 * first half as it writes its output, so the 8C-wide projection is never stored and GELU costs no pass of its own.
 * Rows are independent: the tokens go through in blocks of {@link #ROWS} rows with reused buffers (the 4C-wide
 * halves of a whole level-0 batch would be 97 MB each at batch 2).
 */
final class FeedForward {
    static final int ROWS = 2048;

    final String path;
    private final int inner;
    private final int rowsPerBlock;
    private final Linear value, gate, out;

    FeedForward(Binder p, int channels) {
        this(p, channels, ROWS);
    }

    FeedForward(Binder p, int channels, int rowsPerBlock) {
        this.path = p.path();
        this.rowsPerBlock = rowsPerBlock;
        this.inner = 4 * channels;
        Linear proj = p.dense("net.0.proj", 2L * inner, channels, true);
        value = proj == null ? null : proj.rows(0, inner);
        gate = proj == null ? null : proj.rows(inner, 2L * inner);
        out = p.dense("net.2", channels, inner, true);
    }

    /** n = LN3(x) {@code [B,L,C]} (not modified) → a new {@code [B,L,C]}. */
    INDArray forward(INDArray n, Trace trace) {
        long b = n.size(0), l = n.size(1), c = n.size(2);
        long rows = b * l;
        INDArray x = NN.contiguous(n).reshape('c', rows, c);
        INDArray result = Buffers.take(b, l, c);
        INDArray result2 = result.reshape('c', rows, c);
        // the GEGLU output is traced whole, so a traced call takes all rows in one block
        boolean traced = trace.wants(path + ".net.0.out");
        long block = traced ? rows : Math.min(rowsPerBlock, rows);
        INDArray a = Buffers.take(block, inner);
        INDArray g = Buffers.take(block, inner);
        for (long r0 = 0; r0 < rows; r0 += block) {
            long m = Math.min(block, rows - r0);
            INDArray xs = x.get(NDArrayIndex.interval(r0, r0 + m), NDArrayIndex.all());
            INDArray as = m == block ? a : a.get(NDArrayIndex.interval(0, m), NDArrayIndex.all());
            INDArray gs = m == block ? g : g.get(NDArrayIndex.interval(0, m), NDArrayIndex.all());
            value.apply(xs, as, Gemm.Epilogue.NONE);
            gate.apply(xs, gs, Gemm.Epilogue.NONE.gelu().times(as));
            if (traced) trace.record(path + ".net.0.out", gs.reshape(b, l, inner));
            out.apply(gs, result2.get(NDArrayIndex.interval(r0, r0 + m), NDArrayIndex.all()), Gemm.Epilogue.NONE);
        }
        Buffers.release(a, g);
        trace.record(path + ".out", result);
        return result;
    }
}
