package io.github.v2a4j.cogvlm;

import io.github.v2a4j.io.TensorSource;
import io.github.v2a4j.nn.NN;
import io.github.v2a4j.nn.Trace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * {@code EVA2CLIPModel} ({@code model.vision}): patch embedding → 63 post-norm layers (no final norm) → drop cls →
 * 2×2 stride-2 {@code conv} on the 16×16 grid → GLU adapter → {@code boi} + 64 tokens + {@code eoi}: 66 rows of LLM
 * width per frame. Frames are independent.
 *
 * <p>Layer streaming: each layer's weights are loaded (bf16 → fp32 for the real checkpoint), run over every frame,
 * and released before the next layer, so at most one layer (272 MB fp32 at real size) plus the activations of all
 * frames ({@code T·257·1792} floats, 177 MB for 96 frames) are resident. The frames go through a layer in chunks of
 * {@link #frameChunk} to bound the MLP intermediate ({@code chunk·257·15360} floats). With a recording trace all
 * frames run as one chunk, so every module is called once with the whole batch, as upstream does.
 */
public final class VisionTower {

    public static final String PATH = "model.vision";

    private final CogVlmConfig cfg;
    private final TensorSource source;
    private final int frameChunk;

    public VisionTower(CogVlmConfig cfg, TensorSource source, int frameChunk) {
        this.cfg = cfg;
        this.source = source;
        this.frameChunk = Math.max(1, frameChunk);
    }

    /** Declares every parameter of the tower against the checkpoint headers (see {@link Params#check}). */
    static void declare(Params check, CogVlmConfig cfg) {
        CogVlmConfig.Vision v = cfg.vision();
        new PatchEmbedding(check, PATH + ".patch_embedding", v);
        for (int i = 0; i < v.numHiddenLayers(); i++) new VisionTransformerLayer(check, layerPath(i), v);
        Params at = check.at(PATH);
        at.get("conv.weight", v.hiddenSize(), v.hiddenSize(), 2, 2);
        at.get("conv.bias", v.hiddenSize());
        new VisionGlu(check, PATH + ".linear_proj", cfg);
        check.at(PATH).get("boi", 1, 1, cfg.hiddenSize());
        check.at(PATH).get("eoi", 1, 1, cfg.hiddenSize());
    }

    /**
     * Drops cls, lays the patch tokens out as the {@code g×g} grid (channels first) and applies {@code conv}
     * (2×2, stride 2): {@code [F, 1+g², C]} → {@code [F, (g/2)², C]}, rows in row-major grid order.
     */
    static INDArray mergePatches(INDArray x, Params p, CogVlmConfig.Vision v, Trace trace) {
        long frames = x.size(0);
        long tokens = x.size(1) - 1;
        int g = (int) Math.round(Math.sqrt(tokens));
        long c = v.hiddenSize();
        INDArray grid = x.get(NDArrayIndex.all(), NDArrayIndex.interval(1, tokens + 1), NDArrayIndex.all())
                .reshape('c', frames, g, g, c).permute(0, 3, 1, 2).dup('c');
        INDArray merged = NN.conv2d(grid, p.get("conv.weight", c, c, 2, 2), p.get("conv.bias", c), 2, 0);
        Release.free(grid);
        trace.record(PATH + ".conv.out", merged);
        long m = merged.size(2) * merged.size(3);
        INDArray seq = merged.reshape('c', frames, c, m).permute(0, 2, 1).dup('c');
        Release.free(merged);
        return seq;
    }

    static String layerPath(int i) {
        return PATH + ".transformer.layers." + i;
    }

    /** {@code images [frames, 3, 224, 224]} (preprocessed) → {@code [frames, tokensPerFrame, hidden]}. */
    public INDArray forward(INDArray images, Trace trace) {
        return forward(images, trace, Progress.counter(Progress.NONE, steps()));
    }

    /** Progress steps of {@link #forward}: one per layer and one for the adapter. */
    int steps() {
        return cfg.vision().numHiddenLayers() + 1;
    }

    INDArray forward(INDArray images, Trace trace, Progress.Counter progress) {
        CogVlmConfig.Vision v = cfg.vision();
        long frames = images.size(0);
        trace.record(PATH + ".in.0", images);
        INDArray x;
        try (Params p = Params.load(source, "")) {
            x = new PatchEmbedding(p, PATH + ".patch_embedding", v).forward(images, trace);
        }
        int chunk = trace == Trace.OFF ? frameChunk : (int) frames;
        for (int i = 0; i < v.numHiddenLayers(); i++) {
            try (Params p = Params.load(source, "")) {
                VisionTransformerLayer layer = new VisionTransformerLayer(p, layerPath(i), v);
                INDArray next;
                if (chunk >= frames) {
                    next = layer.forward(x, trace);
                } else {
                    next = Nd4j.createUninitialized(x.dataType(), x.shape());
                    for (long f0 = 0; f0 < frames; f0 += chunk) {
                        long f1 = Math.min(frames, f0 + chunk);
                        INDArray out = layer.forward(x.get(NDArrayIndex.interval(f0, f1), NDArrayIndex.all(), NDArrayIndex.all()), trace);
                        next.get(NDArrayIndex.interval(f0, f1), NDArrayIndex.all(), NDArrayIndex.all()).assign(out);
                        Release.free(out);
                    }
                }
                Release.free(x);
                x = next;
            }
            progress.tick("vision layer " + (i + 1) + "/" + v.numHiddenLayers());
        }
        trace.record(PATH + ".transformer.out", x);

        INDArray seq;
        try (Params p = Params.load(source, PATH)) {
            seq = mergePatches(x, p, v, trace);
        }
        Release.free(x);
        long m = seq.size(1);

        INDArray adapted;
        try (Params p = Params.load(source, "")) {
            adapted = new VisionGlu(p, PATH + ".linear_proj", cfg).forward(seq, trace);
        }
        Release.free(seq);

        long d = cfg.hiddenSize();
        INDArray out = Nd4j.createUninitialized(adapted.dataType(), frames, m + 2, d);
        out.get(NDArrayIndex.all(), NDArrayIndex.interval(1, m + 1), NDArrayIndex.all()).assign(adapted);
        Release.free(adapted);
        try (Params p = Params.load(source, PATH)) {
            INDArray boi = p.get("boi", 1, 1, d).reshape(d);
            INDArray eoi = p.get("eoi", 1, 1, d).reshape(d);
            for (long f = 0; f < frames; f++) {
                out.get(NDArrayIndex.point(f), NDArrayIndex.point(0), NDArrayIndex.all()).assign(boi);
                out.get(NDArrayIndex.point(f), NDArrayIndex.point(m + 1), NDArrayIndex.all()).assign(eoi);
            }
        }
        trace.record(PATH + ".out", out);
        progress.tick("adapter");
        return out;
    }
}
