package io.github.v2a4j.cogvlm;

import io.github.v2a4j.nn.Buffers;
import io.github.v2a4j.nn.Binder;
import io.github.v2a4j.nn.NN;
import io.github.v2a4j.nn.Trace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * EVA2-CLIP {@code PatchEmbedding} ({@code model.vision.patch_embedding}): conv patch×patch stride patch with bias →
 * row-major token grid, {@code cls_embedding} prepended, learned absolute positions added (row 0 = cls).
 */
final class PatchEmbedding {

    private final String path;
    private final int patch;
    private final int hidden;
    private final INDArray projWeight;
    private final INDArray projBias;
    private final INDArray cls;
    private final INDArray positions;

    PatchEmbedding(Binder p, CogVlmConfig.Vision cfg) {
        this.path = p.path();
        this.patch = cfg.patchSize();
        this.hidden = cfg.hiddenSize();
        projWeight = p.conv("proj.weight", hidden, cfg.inChannels(), patch, patch);
        projBias = p.get("proj.bias", hidden);
        cls = p.get("cls_embedding", 1, hidden);
        positions = p.get("position_embedding.weight", cfg.numPositions(), hidden);
    }

    /** {@code images [frames, 3, H, W]} → {@code [frames, 1 + (H/patch)·(W/patch), hidden]}. */
    INDArray forward(INDArray images, Trace trace) {
        INDArray grid = NN.conv2d(images, projWeight, projBias, patch, 0);
        trace.record(path + ".proj.out", grid);
        long frames = grid.size(0);
        long tokens = grid.size(2) * grid.size(3);
        if (tokens + 1 != positions.size(0)) {
            throw new IllegalArgumentException("image gives " + tokens + " patches but position_embedding has "
                    + positions.size(0) + " rows (image must be " + "square, image_size from the config)");
        }
        INDArray out = Nd4j.createUninitialized(grid.dataType(), frames, tokens + 1, hidden);
        // flatten(2).transpose(1, 2): [F, C, h, w] → [F, h·w, C]
        out.get(NDArrayIndex.all(), NDArrayIndex.interval(1, tokens + 1), NDArrayIndex.all())
                .assign(grid.reshape('c', frames, hidden, tokens).permute(0, 2, 1));
        Buffers.release(grid);
        for (long f = 0; f < frames; f++) {
            out.get(NDArrayIndex.point(f), NDArrayIndex.point(0), NDArrayIndex.all()).assign(cls.reshape(hidden));
        }
        // + position_embedding.weight.unsqueeze(0): one row vector of (tokens+1)·hidden per frame
        out.reshape('c', frames, (tokens + 1) * hidden).addiRowVector(positions.reshape('c', 1, (tokens + 1) * hidden));
        trace.record(path + ".out", out);
        return out;
    }
}
