package io.github.v2a4j.cogvlm;

import java.nio.FloatBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@code FastRotaryEmbedding(dim=headDim, base=500000, interleaved=False, pos_idx_in_fp32=False)}
 * ({@code model.layers.i.self_attn.rotary_emb}): rotate-half pairs {@code (d, d+half)} with
 * {@code o0 = x0·cos − x1·sin}, {@code o1 = x0·sin + x1·cos}, angle {@code pos·inv_freq_j} computed as one float
 * product (positions are built in {@code inv_freq}'s dtype; exact for the small positions a "base" sequence has).
 * {@code inv_freq} comes from the checkpoint buffer, so a checkpoint's own rounding of it is honoured.
 */
final class RotaryEmbedding {

    private final float[] invFreq;
    private final int headDim;

    RotaryEmbedding(INDArray invFreq, int headDim) {
        this.invFreq = invFreq.castTo(DataType.FLOAT).dup().data().asFloat();
        this.headDim = headDim;
        if (this.invFreq.length * 2 != headDim) {
            throw new IllegalArgumentException("inv_freq has " + this.invFreq.length + " entries, head dim is " + headDim);
        }
    }

    /** cos/sin tables {@code [positions][half]}. */
    float[][][] tables(long[] positions) {
        int half = headDim / 2;
        float[][] cos = new float[positions.length][half];
        float[][] sin = new float[positions.length][half];
        for (int i = 0; i < positions.length; i++) {
            float p = positions[i];
            for (int j = 0; j < half; j++) {
                float angle = p * invFreq[j];
                cos[i][j] = (float) Math.cos(angle);
                sin[i][j] = (float) Math.sin(angle);
            }
        }
        return new float[][][] {cos, sin};
    }

    /**
     * Rotates {@code x [1, L, heads·headDim]} in place ({@code x} must be a c-ordered array that owns its buffer,
     * e.g. a fresh {@code dup('c')}).
     */
    void applyInPlace(INDArray x, int heads, float[][][] table) {
        if (x.isView() || x.ordering() != 'c' || x.dataType() != DataType.FLOAT) {
            throw new IllegalArgumentException("rotary input must be a contiguous float array");
        }
        float[][] cos = table[0];
        float[][] sin = table[1];
        int half = headDim / 2;
        int length = cos.length;
        FloatBuffer b = x.data().asNioFloat();
        int row = heads * headDim;
        // one token row at a time through a Java array: bulk copies and plain loops the JIT vectorises
        java.util.stream.IntStream.range(0, length).parallel().forEach(i -> {
            float[] c = cos[i];
            float[] s = sin[i];
            float[] r = new float[row];
            b.get(i * row, r, 0, row);
            for (int h = 0; h < heads; h++) {
                int o = h * headDim;
                for (int j = 0; j < half; j++) {
                    float x0 = r[o + j];
                    float x1 = r[o + j + half];
                    r[o + j] = x0 * c[j] - x1 * s[j];
                    r[o + j + half] = x0 * s[j] + x1 * c[j];
                }
            }
            b.put(i * row, r, 0, row);
        });
    }
}
