package io.github.v2a4j.unet;

import io.github.v2a4j.nn.Binder;
import io.github.v2a4j.nn.NN;
import io.github.v2a4j.nn.Trace;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.strict.Erf;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * diffusers FeedForward with GEGLU: {@code net.0.proj} C → 8C, split the last dim into {@code [a | g]} (4C each),
 * {@code a · GELU_exact(g)}, then {@code net.2} 4C → C.
 *
 * <p>Rows are independent, so the tokens go through in blocks of {@link #ROWS} rows with two reused buffers: the
 * 8C-wide projection of a whole level-0 batch would be 194 MB (batch 2), a block is 21 MB and stays in cache-friendly
 * reach of the second GEMM.
 */
final class FeedForward {
    static final int ROWS = 2048;

    final String path;
    private final int inner;
    private final int rowsPerBlock;
    private final INDArray projW, projB, outW, outB;

    FeedForward(Binder p, int channels) {
        this(p, channels, ROWS);
    }

    FeedForward(Binder p, int channels, int rowsPerBlock) {
        this.path = p.path();
        this.rowsPerBlock = rowsPerBlock;
        this.inner = 4 * channels;
        projW = p.linear("net.0.proj.weight", 2L * inner, channels);
        projB = p.get("net.0.proj.bias", 2L * inner);
        outW = p.linear("net.2.weight", channels, inner);
        outB = p.get("net.2.bias", channels);
    }

    /** n = LN3(x) {@code [B,L,C]} (not modified) → {@code [B,L,C]}. */
    INDArray forward(INDArray n, Trace trace) {
        long b = n.size(0), l = n.size(1), c = n.size(2);
        long rows = b * l;
        INDArray x = NN.contiguous(n).reshape('c', rows, c);
        INDArray out = Nd4j.createUninitialized(DataType.FLOAT, rows, c);
        // the GEGLU output is traced whole, so a traced call takes all rows in one block
        boolean traced = trace.wants(path + ".net.0.out");
        int block = traced ? (int) rows : (int) Math.min(rowsPerBlock, rows);
        INDArray proj = Nd4j.createUninitialized(DataType.FLOAT, block, 2L * inner);
        INDArray hidden = Nd4j.createUninitialized(DataType.FLOAT, block, inner);
        for (long r0 = 0; r0 < rows; r0 += block) {
            long m = Math.min(block, rows - r0);
            INDArray p = m == block ? proj : proj.get(NDArrayIndex.interval(0, m), NDArrayIndex.all());
            INDArray h = m == block ? hidden : hidden.get(NDArrayIndex.interval(0, m), NDArrayIndex.all());
            Nd4j.gemm(x.get(NDArrayIndex.interval(r0, r0 + m), NDArrayIndex.all()), projW, p, false, true, 1.0, 0.0);
            p.addiRowVector(projB);
            INDArray a = p.get(NDArrayIndex.all(), NDArrayIndex.interval(0, inner));
            INDArray g = p.get(NDArrayIndex.all(), NDArrayIndex.interval(inner, 2L * inner));
            // a·GELU(g) = a·g·0.5·(1 + erf(g/√2))
            h.assign(g).muli(1.0 / Math.sqrt(2.0));
            Nd4j.getExecutioner().exec(new Erf(h, h));
            h.addi(1.0).muli(0.5).muli(g).muli(a);
            if (traced) trace.record(path + ".net.0.out", h.reshape(b, l, inner));
            INDArray o = out.get(NDArrayIndex.interval(r0, r0 + m), NDArrayIndex.all());
            Nd4j.gemm(h, outW, o, false, true, 1.0, 0.0);
            o.addiRowVector(outB);
        }
        Ops.free(proj, hidden);
        INDArray result = out.reshape('c', b, l, c);
        trace.record(path + ".out", result);
        return result;
    }
}
