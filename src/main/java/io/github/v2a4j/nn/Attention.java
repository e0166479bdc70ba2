package io.github.v2a4j.nn;

import java.nio.FloatBuffer;
import java.util.stream.IntStream;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Scaled dot-product attention on token tensors, computed in query chunks with a reused score buffer so that memory
 * does not grow with Lq·Lk (the UNet's level-0 self-attention has 9472 tokens; a plain score tensor would be 2.9 GB).
 *
 * <p>q {@code [B, Lq, heads·D]}, k and v {@code [B, Lk, kvHeads·D]} (heads contiguous in the channel dim, query head h
 * uses kv head {@code h / (heads/kvHeads)}), scale {@code 1/√D}, optional causal mask (query i sees keys ≤ i + Lk − Lq).
 * Returns {@code [B, Lq, heads·D]}.
 *
 * <p>Per chunk of queries: one batched GEMM over all heads {@code S = (Q·Kᵀ)/√D} into a {@code [heads, chunk, Lk]}
 * buffer, an in-place softmax over the last dim, one batched GEMM {@code S·V} straight into the output. Heads are read
 * and written through strides, so no head is copied out or merged back. A causal chunk multiplies only the keys its
 * last query can see, which skips the masked half of the work. In {@link Precision#BF16} q, k and v are rounded to
 * bf16 (Q·Kᵀ runs on bf16 operands); scores, softmax, probabilities, P·V and output stay fp32. (Rounding the
 * probabilities to bf16 too, as PyTorch's flash attention does, put one tensor of each tiny UNet bundle 3–8 % beyond
 * the reference's own bf16 error.) The softmax is oneDNN's
 * ({@link Eltwise#softmaxRows}).
 */
public final class Attention {
    private Attention() {}

    /** Upper bound on the score buffer, in floats (256 MB). */
    static final long MAX_SCORE_FLOATS = 64L << 20;

    /** fp32 attention. */
    public static INDArray sdpa(INDArray q, INDArray k, INDArray v, int heads, int kvHeads, boolean causal) {
        return sdpa(q, k, v, heads, kvHeads, causal, Precision.FP32, 0);
    }

    public static INDArray sdpa(INDArray q, INDArray k, INDArray v, int heads, int kvHeads, boolean causal,
                                Precision precision) {
        return sdpa(q, k, v, heads, kvHeads, causal, precision, 0);
    }

    /** As {@link #sdpa(INDArray, INDArray, INDArray, int, int, boolean, Precision)} with a query chunk (0 = automatic). */
    public static INDArray sdpa(INDArray q, INDArray k, INDArray v, int heads, int kvHeads, boolean causal,
                                Precision precision, int chunk) {
        long b = q.size(0);
        int lq = (int) q.size(1);
        int lk = (int) k.size(1);
        int d = (int) (q.size(2) / heads);
        checkShapes(q, k, v, heads, kvHeads, d);
        int group = heads / kvHeads;
        float scale = (float) (1.0 / Math.sqrt(d));
        boolean bf16 = precision == Precision.BF16;
        INDArray qs = operand(q, bf16);
        INDArray ks = operand(k, bf16);
        // the probabilities stay fp32: P·V multiplies them with the bf16-rounded values in fp32, so the attention is
        // the exact attention of rounded q, k, v (what PyTorch 2's fused CPU attention computes for bf16 inputs)
        INDArray vs = bf16 ? roundedToBf16(v) : operand(v, false);
        INDArray out = Buffers.take(b, lq, (long) heads * d);  // dense: heads() uses its strides too
        int cq = chunk > 0 ? Math.min(chunk, lq)
                : (int) Math.max(1, Math.min(lq, MAX_SCORE_FLOATS / ((long) heads * lk)));
        long need = (long) heads * Math.min(cq, lq) * lk;
        INDArray scoreBuffer = Buffers.take(need);
        try {
            for (long bi = 0; bi < b; bi++) {
                for (int q0 = 0; q0 < lq; q0 += cq) {
                    int n = Math.min(cq, lq - q0);
                    // keys the chunk's last query may see (all of them without a mask)
                    int limit = causal ? Math.min(lk, q0 + n + lk - lq) : lk;
                    INDArray scores = view(scoreBuffer, heads, n, limit);
                    // [kvHeads, group, n, D] · [kvHeads, 1, D, limit] → [kvHeads, group, n, limit]
                    Gemm.matmul(heads(qs, bi, q0, n, kvHeads, group, d), keysT(ks, bi, limit, kvHeads, d),
                            scores.reshape('c', kvHeads, group, n, limit), null, Gemm.Epilogue.NONE.scaled(scale));
                    if (causal) maskFuture(scores, heads, n, limit, q0 + lk - lq);
                    Eltwise.softmaxRows(scores.reshape('c', (long) heads * n, limit), scores.reshape('c', (long) heads * n, limit));
                    Gemm.matmul(scores.reshape('c', kvHeads, group, n, limit), values(vs, bi, limit, kvHeads, d),
                            heads(out, bi, q0, n, kvHeads, group, d), null, Gemm.Epilogue.NONE);
                }
            }
        } finally {
            Buffers.release(scoreBuffer);
            if (qs != q) Buffers.release(qs);
            if (ks != k) Buffers.release(ks);
            if (vs != v) Buffers.release(vs);
        }
        return out;
    }

    /**
     * The operand the products read: x itself when its channels are contiguous (rows and batches may be strided),
     * else a dense copy; rounded to bf16 (a dense copy) when asked.
     */
    private static INDArray operand(INDArray x, boolean bf16) {
        if (bf16) {
            INDArray r = Buffers.take(DataType.BFLOAT16, x.shape());
            Dnnl.reorder(x, r);
            return r;
        }
        if (x.stride(2) == 1 && x.stride(1) >= x.size(2) && x.stride(0) >= x.size(1) * x.stride(1)) return x;
        INDArray d = Buffers.take(x.shape());
        d.assign(x);
        return d;
    }

    /** {@code x} rounded to bf16 and back: fp32 values a bf16 tensor holds (dense). */
    private static INDArray roundedToBf16(INDArray x) {
        INDArray r = Buffers.take(DataType.BFLOAT16, x.shape());
        Dnnl.reorder(x, r);
        INDArray f = Buffers.take(x.shape());
        Dnnl.reorder(r, f);
        Buffers.release(r);
        return f;
    }

    /** The first {@code n·h·lk} elements of a flat buffer as a dense {@code [h, n, lk]} array. */
    private static INDArray view(INDArray flat, int h, int n, int lk) {
        return NN.view(flat, new long[] {h, n, lk}, new long[] {(long) n * lk, lk, 1}, 0);
    }

    // x may have any row and batch strides (a column slice of a fused q/k/v projection) as long as its channels are
    // contiguous.

    /** Rows q0..q0+n of batch b of a {@code [B, L, H·D]} tensor as {@code [kvHeads, group, n, D]}. */
    private static INDArray heads(INDArray x, long b, int q0, int n, int kvHeads, int group, int d) {
        long offset = b * x.stride(0) + (long) q0 * x.stride(1);
        return NN.view(x, new long[] {kvHeads, group, n, d}, new long[] {(long) group * d, d, x.stride(1), 1}, offset);
    }

    /** Keys 0..limit of batch b of {@code [B, Lk, kvHeads·D]} as {@code Kᵀ}: {@code [kvHeads, 1, D, limit]}. */
    private static INDArray keysT(INDArray k, long b, int limit, int kvHeads, int d) {
        return NN.view(k, new long[] {kvHeads, 1, d, limit}, new long[] {d, d, 1, k.stride(1)}, b * k.stride(0));
    }

    /** Values 0..limit of batch b as {@code [kvHeads, 1, limit, D]}. */
    private static INDArray values(INDArray v, long b, int limit, int kvHeads, int d) {
        return NN.view(v, new long[] {kvHeads, 1, limit, d}, new long[] {d, d, v.stride(1), 1}, b * v.stride(0));
    }

    static void checkShapes(INDArray q, INDArray k, INDArray v, int heads, int kvHeads, int d) {
        if (q.rank() != 3 || k.rank() != 3 || v.rank() != 3 || heads % kvHeads != 0
                || q.size(2) != (long) heads * d || k.size(2) != (long) kvHeads * d || !k.equalShapes(v)
                || q.size(0) != k.size(0)) {
            throw new IllegalArgumentException("attention: q " + java.util.Arrays.toString(q.shape()) + ", k "
                    + java.util.Arrays.toString(k.shape()) + ", v " + java.util.Arrays.toString(v.shape())
                    + " do not fit " + heads + " heads / " + kvHeads + " kv heads");
        }
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
}
