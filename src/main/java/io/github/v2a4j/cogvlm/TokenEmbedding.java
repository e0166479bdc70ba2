package io.github.v2a4j.cogvlm;

import io.github.v2a4j.nn.Buffers;
import io.github.v2a4j.io.TensorInfo;
import io.github.v2a4j.io.TensorSource;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@code model.embed_tokens} lookup that reads only the rows a sequence uses. The real table is
 * {@code [128256, 4096]} bf16 (1 GB; 2.1 GB as fp32, and over Java's 2 GB single-mapping limit): converting the whole
 * tensor for a handful of distinct ids would be waste, so the rows come from {@link TensorSource#rows}.
 */
final class TokenEmbedding {

    static final String NAME = "model.embed_tokens.weight";

    private TokenEmbedding() {}

    /** Rows {@code ids} of the table as a new {@code [ids.length, hidden]} float array. */
    static INDArray rows(TensorSource source, int[] ids, int vocab, int hidden) {
        TensorInfo info = source.info(NAME);
        if (info.shape().length != 2 || info.shape()[1] != hidden) {
            throw new IllegalArgumentException(NAME + " is " + info.shapeString() + ", expected [" + vocab + ", " + hidden + "]");
        }
        long[] rows = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= info.shape()[0]) {
                throw new IllegalArgumentException("token id " + ids[i] + " outside " + NAME + " " + info.shapeString());
            }
            rows[i] = ids[i];
        }
        return source.rows(NAME, rows);
    }
}
