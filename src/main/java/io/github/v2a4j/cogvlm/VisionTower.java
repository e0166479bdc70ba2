package io.github.v2a4j.cogvlm;

import io.github.v2a4j.nn.Buffers;
import io.github.v2a4j.io.TensorSource;
import io.github.v2a4j.nn.Binder;
import io.github.v2a4j.nn.Precision;
import io.github.v2a4j.nn.Trace;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
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
 * frames run as one chunk, so every module is called once with the whole batch, as upstream does. While a layer
 * computes, the next one's bytes are read into the page cache in the background ({@link TensorSource#prefetch}), so
 * its loading does not wait for the disk.
 *
 * <p>Repeated frames run once. Since frames are independent, a frame equal bit for bit to an earlier one gets that
 * frame's rows without a second pass: the black clip of the unconditional embedding is one frame repeated, and a
 * video with fewer than 8 frames per second repeats frames when 96 are sampled from it. (With a recording trace every
 * frame runs, as upstream calls the modules.)
 */
public final class VisionTower {

    public static final String PATH = "model.vision";

    private final CogVlmConfig cfg;
    private final TensorSource source;
    private final int frameChunk;
    private final Precision precision;

    public VisionTower(CogVlmConfig cfg, TensorSource source, int frameChunk) {
        this(cfg, source, frameChunk, Precision.FP32);
    }

    public VisionTower(CogVlmConfig cfg, TensorSource source, int frameChunk, Precision precision) {
        this.cfg = cfg;
        this.source = source;
        this.frameChunk = Math.max(1, frameChunk);
        this.precision = precision;
    }

    /** Asks for every parameter of the tower (a {@link Binder#check} reads headers only). */
    static void declare(Binder root, CogVlmConfig cfg) {
        CogVlmConfig.Vision v = cfg.vision();
        Binder tower = root.at(PATH);
        new PatchEmbedding(tower.at("patch_embedding"), v);
        for (int i = 0; i < v.numHiddenLayers(); i++) new VisionTransformerLayer(root.at(layerPath(i)), v);
        new VisionConv(tower.at("conv"), v);
        new VisionGlu(tower.at("linear_proj"), cfg);
        tower.get("boi", 1, 1, cfg.hiddenSize());
        tower.get("eoi", 1, 1, cfg.hiddenSize());
    }

    public static String layerPath(int i) {
        return PATH + ".transformer.layers." + i;
    }

    /** Streamed layers between two collections that unmap their weights ({@link #releaseMappings}). */
    static final int LAYERS_PER_COLLECTION = 4;

    /**
     * Called after streamed layer {@code layer} is closed. Its weights were read-only mappings, which the OS unmaps
     * only when their buffers are collected; a pass allocates little on the Java heap, so without a collection the
     * pages of every layer stay mapped and counted in the resident set (11 GB of file-backed pages by the end of a
     * full-size bf16 pass). A collection of the nearly empty heap every few layers bounds that to a few layers.
     */
    static void releaseMappings(int layer) {
        if ((layer + 1) % LAYERS_PER_COLLECTION == 0) System.gc();
    }

    /** Queues a background read of the tensors under {@code path} ({@link TensorSource#prefetch}). */
    static void prefetch(TensorSource source, String path) {
        source.prefetch(source.names().subSet(path + ".", path + "/"));
    }

    /** {@code images [frames, 3, 224, 224]} (preprocessed) → {@code [frames, tokensPerFrame, hidden]}. */
    public INDArray forward(INDArray images, Trace trace) {
        return forward(images, trace, Progress.counter(Progress.NONE, steps()));
    }

    /** Progress steps of {@link #forward}: one per layer and one for the adapter. */
    int steps() {
        return cfg.vision().numHiddenLayers() + 1;
    }

    /** A binder for one streamed block: its converted weights are freed when it is closed. */
    private Binder block() {
        return Binder.load(source, CogVlmEncoder.COMPONENT, precision);
    }

    INDArray forward(INDArray images, Trace trace, Progress.Counter progress) {
        if (trace != Trace.OFF) return run(images, trace, progress);
        int[] first = firstEqualFrame(images);
        int[] distinct = IntStream.range(0, first.length).filter(f -> first[f] == f).toArray();
        if (distinct.length == first.length) return run(images, trace, progress);
        INDArray some = Nd4j.createUninitialized(images.dataType(), distinct.length, images.size(1), images.size(2), images.size(3));
        int[] row = new int[first.length];
        for (int i = 0; i < distinct.length; i++) {
            some.get(NDArrayIndex.point(i)).assign(images.get(NDArrayIndex.point(distinct[i])));
            row[distinct[i]] = i;
        }
        INDArray part = run(some, trace, progress);
        Buffers.release(some);
        INDArray out = Nd4j.createUninitialized(part.dataType(), first.length, part.size(1), part.size(2));
        for (int f = 0; f < first.length; f++) out.get(NDArrayIndex.point(f)).assign(part.get(NDArrayIndex.point(row[first[f]])));
        Buffers.release(part);
        return out;
    }

    /** For each frame of {@code images [frames, ...]}, the index of the first frame equal to it bit for bit. */
    static int[] firstEqualFrame(INDArray images) {
        int frames = (int) images.size(0);
        int n = (int) (images.length() / Math.max(1, frames));
        float[] px = images.dup('c').data().asFloat();
        int[] first = new int[frames];
        Map<Integer, List<Integer>> byHash = new HashMap<>();
        for (int f = 0; f < frames; f++) {
            int h = 1;
            for (int i = f * n, end = i + n; i < end; i++) h = 31 * h + Float.floatToRawIntBits(px[i]);
            first[f] = f;
            List<Integer> same = byHash.computeIfAbsent(h, k -> new ArrayList<>());
            for (int g : same) {
                if (Arrays.equals(px, g * n, g * n + n, px, f * n, f * n + n)) {
                    first[f] = g;
                    break;
                }
            }
            if (first[f] == f) same.add(f);
        }
        return first;
    }

    private INDArray run(INDArray images, Trace trace, Progress.Counter progress) {
        CogVlmConfig.Vision v = cfg.vision();
        long frames = images.size(0);
        trace.record(PATH + ".in.0", images);
        INDArray x;
        prefetch(source, layerPath(0));
        try (Binder b = block()) {
            PatchEmbedding embedding = new PatchEmbedding(b.at(PATH).at("patch_embedding"), v);
            b.verifyRequested();
            x = embedding.forward(images, trace);
        }
        int chunk = trace == Trace.OFF ? frameChunk : (int) frames;
        for (int i = 0; i < v.numHiddenLayers(); i++) {
            // the next block's weights are read from disk while this one computes
            if (i + 1 < v.numHiddenLayers()) {
                prefetch(source, layerPath(i + 1));
            } else {
                prefetch(source, PATH + ".conv");
                prefetch(source, PATH + ".linear_proj");
            }
            try (Binder b = block()) {
                VisionTransformerLayer layer = new VisionTransformerLayer(b.at(layerPath(i)), v);
                b.verifyRequested();
                INDArray next;
                if (chunk >= frames) {
                    next = layer.forward(x, trace);
                } else {
                    next = Buffers.take(x.shape());
                    for (long f0 = 0; f0 < frames; f0 += chunk) {
                        long f1 = Math.min(frames, f0 + chunk);
                        INDArray out = layer.forward(x.get(NDArrayIndex.interval(f0, f1), NDArrayIndex.all(), NDArrayIndex.all()), trace);
                        next.get(NDArrayIndex.interval(f0, f1), NDArrayIndex.all(), NDArrayIndex.all()).assign(out);
                        Buffers.release(out);
                    }
                }
                Buffers.release(x);
                x = next;
            }
            releaseMappings(i);
            progress.tick("vision layer " + (i + 1) + "/" + v.numHiddenLayers());
        }
        trace.record(PATH + ".transformer.out", x);

        INDArray seq;
        try (Binder b = block()) {
            VisionConv conv = new VisionConv(b.at(PATH).at("conv"), v);
            b.verifyRequested();
            seq = conv.forward(x, trace);
        }
        Buffers.release(x);

        INDArray adapted;
        try (Binder b = block()) {
            VisionGlu glu = new VisionGlu(b.at(PATH).at("linear_proj"), cfg);
            b.verifyRequested();
            adapted = glu.forward(seq, trace);
        }
        Buffers.release(seq);

        long d = cfg.hiddenSize();
        long m = adapted.size(1);
        INDArray out = Nd4j.createUninitialized(adapted.dataType(), frames, m + 2, d);
        out.get(NDArrayIndex.all(), NDArrayIndex.interval(1, m + 1), NDArrayIndex.all()).assign(adapted);
        Buffers.release(adapted);
        try (Binder b = block()) {
            INDArray boi = b.at(PATH).get("boi", 1, 1, d);
            INDArray eoi = b.at(PATH).get("eoi", 1, 1, d);
            b.verifyRequested();
            for (long f = 0; f < frames; f++) {
                out.get(NDArrayIndex.point(f), NDArrayIndex.point(0), NDArrayIndex.all()).assign(boi.reshape(d));
                out.get(NDArrayIndex.point(f), NDArrayIndex.point(m + 1), NDArrayIndex.all()).assign(eoi.reshape(d));
            }
        }
        trace.record(PATH + ".out", out);
        progress.tick("adapter");
        return out;
    }
}
