package io.github.v2a4j.nn;

import java.nio.FloatBuffer;
import java.util.stream.IntStream;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.custom.SoftMax;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Scaled dot-product attention on token tensors, computed in query chunks with reused score buffers so that memory
 * does not grow with Lq·Lk (the UNet's level-0 self-attention has 9472 tokens; a plain score tensor would be 2.9 GB).
 *
 * <p>q {@code [B, Lq, heads·D]}, k and v {@code [B, Lk, kvHeads·D]} (heads contiguous in the channel dim, query head h
 * uses kv head {@code h / (heads/kvHeads)}), scale {@code 1/√D}, optional causal mask (query i sees keys ≤ i + Lk − Lq).
 * Returns {@code [B, Lq, heads·D]}.
 *
 * <p>Per chunk: one GEMM per head into a slice of a {@code [heads, chunk, Lk]} buffer, one in-place rank-3 softmax over
 * the last dim (oneDNN's fast path for rank-3 softmax), one GEMM per head into the output. The buffer is kept per
 * thread and shape, so repeated calls (51 UNet evaluations) do not pay allocation and first touch again.
 */
public final class Attention {
    private Attention() {}

    /** Upper bound on the score buffer, in floats (256 MB). */
    static final long MAX_SCORE_FLOATS = 64L << 20;

    private static final ThreadLocal<INDArray> BUFFERS = new ThreadLocal<>();

    public static INDArray sdpa(INDArray q, INDArray k, INDArray v, int heads, int kvHeads, boolean causal) {
        return sdpa(q, k, v, heads, kvHeads, causal, 0);
    }

    /** As {@link #sdpa(INDArray, INDArray, INDArray, int, int, boolean)} with an explicit query chunk (0 = automatic). */
    public static INDArray sdpa(INDArray q, INDArray k, INDArray v, int heads, int kvHeads, boolean causal,
                                int chunk) {
        long b = q.size(0);
        int lq = (int) q.size(1);
        int lk = (int) k.size(1);
        int d = (int) (q.size(2) / heads);
        checkShapes(q, k, v, heads, kvHeads, d);
        int group = heads / kvHeads;
        double scale = 1.0 / Math.sqrt(d);
        INDArray qh = splitHeads(q, heads, d);     // [B, H, Lq, D]
        INDArray kh = splitHeads(k, kvHeads, d);   // [B, Hkv, Lk, D]
        INDArray vh = splitHeads(v, kvHeads, d);
        INDArray out = Nd4j.createUninitialized(DataType.FLOAT, b, heads, lq, d);
        int cq = chunk > 0 ? Math.min(chunk, lq)
                : (int) Math.max(1, Math.min(lq, MAX_SCORE_FLOATS / ((long) heads * lk)));
        for (long bi = 0; bi < b; bi++) {
            for (int q0 = 0; q0 < lq; q0 += cq) {
                int n = Math.min(cq, lq - q0);
                INDArray scores = scoreBuffer(heads, n, lk);
                for (int h = 0; h < heads; h++) {
                    INDArray qs = qh.get(NDArrayIndex.point(bi), NDArrayIndex.point(h),
                            NDArrayIndex.interval(q0, q0 + n), NDArrayIndex.all());
                    INDArray ks = kh.get(NDArrayIndex.point(bi), NDArrayIndex.point(h / group),
                            NDArrayIndex.all(), NDArrayIndex.all());
                    Nd4j.gemm(qs, ks, scores.get(NDArrayIndex.point(h), NDArrayIndex.all(), NDArrayIndex.all()),
                            false, true, scale, 0.0);
                }
                if (causal) maskFuture(scores, heads, n, lk, q0 + lk - lq);
                Nd4j.exec(new SoftMax(scores, scores, 2));
                for (int h = 0; h < heads; h++) {
                    INDArray vs = vh.get(NDArrayIndex.point(bi), NDArrayIndex.point(h / group),
                            NDArrayIndex.all(), NDArrayIndex.all());
                    INDArray os = out.get(NDArrayIndex.point(bi), NDArrayIndex.point(h),
                            NDArrayIndex.interval(q0, q0 + n), NDArrayIndex.all());
                    Nd4j.gemm(scores.get(NDArrayIndex.point(h), NDArrayIndex.all(), NDArrayIndex.all()), vs, os,
                            false, false, 1.0, 0.0);
                }
            }
        }
        INDArray merged = mergeHeads(out);
        // ND4J frees native memory only when the Java objects are collected: give these back now
        qh.close();
        kh.close();
        vh.close();
        out.close();
        return merged;
    }

    private static void checkShapes(INDArray q, INDArray k, INDArray v, int heads, int kvHeads, int d) {
        if (q.rank() != 3 || k.rank() != 3 || v.rank() != 3 || heads % kvHeads != 0
                || q.size(2) != (long) heads * d || k.size(2) != (long) kvHeads * d || !k.equalShapes(v)
                || q.size(0) != k.size(0)) {
            throw new IllegalArgumentException("attention: q " + java.util.Arrays.toString(q.shape()) + ", k "
                    + java.util.Arrays.toString(k.shape()) + ", v " + java.util.Arrays.toString(v.shape())
                    + " do not fit " + heads + " heads / " + kvHeads + " kv heads");
        }
    }

    /** {@code [B, L, H·D]} → dense {@code [B, H, L, D]}. */
    static INDArray splitHeads(INDArray x, int h, int d) {
        return x.reshape('c', x.size(0), x.size(1), h, d).permute(0, 2, 1, 3).dup('c');
    }

    /** Dense {@code [B, H, L, D]} → dense {@code [B, L, H·D]}. */
    static INDArray mergeHeads(INDArray x) {
        long b = x.size(0), h = x.size(1), l = x.size(2), d = x.size(3);
        INDArray merged = Nd4j.createUninitialized(DataType.FLOAT, b, l, h * d); // owning, so callers can close it
        merged.reshape('c', b, l, h, d).assign(x.permute(0, 2, 1, 3));
        return merged;
    }

    private static INDArray scoreBuffer(int heads, int n, int lk) {
        long need = (long) heads * n * lk;
        INDArray flat = BUFFERS.get();
        if (flat == null || flat.length() < need) {
            // one buffer per thread, grown to the largest shape asked for (the UNet uses a dozen shapes per forward:
            // a cache per shape would reallocate up to 256 MB several times per evaluation)
            if (flat != null) flat.close();
            flat = Nd4j.createUninitialized(DataType.FLOAT, need);
            BUFFERS.set(flat);
        }
        return Nd4j.create(flat.data(), new long[] {heads, n, lk});
    }

    /** Sets scores of keys after {@code firstLimit + i} to −∞ for query row i of the chunk. */
    private static void maskFuture(INDArray scores, int heads, int n, int lk, int firstLimit) {
        FloatBuffer fb = NN.buffer(scores);
        IntStream.range(0, heads * n).parallel().forEach(r -> {
            int i = r % n;
            int from = Math.max(0, firstLimit + i + 1);
            int base = r * lk;
            for (int j = from; j < lk; j++) fb.put(base + j, Float.NEGATIVE_INFINITY);
        });
    }

    /** Frees the per-thread score buffers (after a model run). */
    public static void releaseBuffers() {
        INDArray flat = BUFFERS.get();
        if (flat != null) flat.close();
        BUFFERS.remove();
    }
}
