package io.github.v2a4j.nn;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Scaled dot-product attention on token tensors, computed in query chunks with reused score buffers so that memory
 * does not grow with Lq·Lk (the UNet's level-0 self-attention has 9472 tokens; a plain score tensor would be 2.9 GB).
 *
 * <p>q {@code [B, Lq, heads·D]}, k and v {@code [B, Lk, kvHeads·D]} (heads contiguous in the channel dim, query head h
 * uses kv head {@code h / (heads/kvHeads)}), scale {@code 1/√D}, optional causal mask (query i sees keys ≤ i + Lk − Lq).
 * Returns {@code [B, Lq, heads·D]}.
 */
public final class Attention {
    private Attention() {}

    public static INDArray sdpa(INDArray q, INDArray k, INDArray v, int heads, int kvHeads, boolean causal) {
        throw new UnsupportedOperationException("TODO");
    }

    /** The plain formula, materialising all scores: the slow twin that tests the chunked path at small sizes. */
    public static INDArray sdpaPlain(INDArray q, INDArray k, INDArray v, int heads, int kvHeads, boolean causal) {
        throw new UnsupportedOperationException("TODO");
    }
}
