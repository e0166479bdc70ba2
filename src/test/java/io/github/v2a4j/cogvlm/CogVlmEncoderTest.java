package io.github.v2a4j.cogvlm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.v2a4j.io.SafetensorsFile;
import io.github.v2a4j.nn.Trace;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The encoder's memory and caching machinery on the tiny golden model: frame chunking, the BF16 (converted, then
 * released) weight path that the real checkpoint takes, the unconditional-embedding cache, checkpoint verification,
 * and the two ways of reading token-embedding rows.
 */
class CogVlmEncoderTest {

    static final double TOL = CogVlmGoldenTest.TOL;

    @TempDir
    Path tmp;

    static final class Tiny {
        final CogVlmConfig cfg;
        final MapTensorSource weights;
        final MapTensorSource io;

        Tiny() {
            Path b = Golden.bundle("cogvlm-tiny");
            cfg = CogVlmConfig.read(b.resolve("config.json"));
            weights = MapTensorSource.read(b.resolve("weights.safetensors"));
            io = MapTensorSource.read(b.resolve("io.safetensors"));
        }
    }

    @Test
    void oneFrameChunksGiveTheGoldenEmbedding() {
        Tiny t = new Tiny();
        // chunk 1 with a recording-free trace: every vision layer runs frame by frame (the streaming layout)
        java.util.List<String> steps = new java.util.ArrayList<>();
        INDArray got = new CogVlmEncoder(t.cfg, t.weights, null, "x", 1)
                .progress((unit, d, n) -> steps.add(unit + " " + d + "/" + n))
                .videoEmbedding(t.io.raw("video"), Trace.OFF);
        Golden.Error e = Golden.compare("video_embedding", got, t.io.raw("video_embedding"));
        assertThat(e.rel()).as(e.toString()).isLessThanOrEqualTo(TOL);
        // 2 vision layers, the adapter, decoder layers 0..1
        assertThat(steps).containsExactly("vision layer 1/2 1/5", "vision layer 2/2 2/5", "adapter 3/5",
                "decoder layer 1/2 4/5", "decoder layer 2/2 5/5");
    }

    @Test
    void bf16CheckpointRunsThroughTheSamePathAndReleasesConvertedWeights() {
        Tiny t = new Tiny();
        MapTensorSource f32 = new MapTensorSource();
        MapTensorSource bf16 = new MapTensorSource();
        for (String n : t.weights.names()) {
            INDArray rounded = t.weights.raw(n).castTo(DataType.BFLOAT16).castTo(DataType.FLOAT);
            f32.put(n, rounded, "F32");
            bf16.put(n, rounded.dup(), "BF16");
        }
        INDArray a = new CogVlmEncoder(t.cfg, f32, null, "x", 1).videoEmbedding(t.io.raw("video"), Trace.OFF);
        INDArray b = new CogVlmEncoder(t.cfg, bf16, null, "x", 1).videoEmbedding(t.io.raw("video"), Trace.OFF);
        assertThat(b.data().asFloat()).containsExactly(a.data().asFloat());
        assertThat(bf16.converted).isNotEmpty();
        assertThat(bf16.converted).allSatisfy(w -> assertThat(w.wasClosed()).as("converted weight released").isTrue());
        // bf16 weights move the result, but not grossly (sanity that the comparison above is not vacuous)
        Golden.Error e = Golden.compare("bf16 vs fp32 weights", b, t.io.raw("video_embedding"));
        assertThat(e.rel()).isGreaterThan(0).isLessThan(0.1);
    }

    @Test
    void unconditionalEmbeddingIsCachedOnDiskAndEqualsABlackVideoPass() throws Exception {
        Tiny t = new Tiny();
        CogVlmEncoder enc = new CogVlmEncoder(t.cfg, t.weights, tmp, "fingerprint-1", 8);
        INDArray first = enc.unconditionalVideoEmbedding(2, 40, 64);
        try (var files = Files.list(tmp)) {
            assertThat(files.map(p -> p.getFileName().toString()).toList())
                    .singleElement().asString().startsWith("uncond-video-T2-").endsWith(".f32");
        }
        INDArray black = enc.videoEmbedding(Nd4j.zeros(DataType.INT, 3, 2, 40, 64), Trace.OFF);
        assertThat(first.data().asFloat()).containsExactly(black.data().asFloat());

        // a second encoder with the same fingerprint but NO weights can only answer from the cache
        CogVlmEncoder cacheOnly = new CogVlmEncoder(t.cfg, new MapTensorSource(), tmp, "fingerprint-1", 8);
        assertThat(cacheOnly.unconditionalVideoEmbedding(2, 40, 64).data().asFloat()).containsExactly(first.data().asFloat());
        // other weights, other key
        CogVlmEncoder other = new CogVlmEncoder(t.cfg, new MapTensorSource(), tmp, "fingerprint-2", 8);
        assertThatThrownBy(() -> other.unconditionalVideoEmbedding(2, 40, 64)).hasMessageContaining("do not match the model: 4 missing");
    }

    @Test
    void textEmbeddingsAreCachedPerTextAndTheCacheStaysBounded() throws Exception {
        Tiny t = new Tiny();
        int[] a = {5, 9, 11};
        int[] b = {7, 3};
        CogVlmEncoder enc = new CogVlmEncoder(t.cfg, t.weights, tmp, "fingerprint-1", 8);
        List<INDArray> first = enc.textEmbeddings(List.of(a, b));
        INDArray plainA = new CogVlmEncoder(t.cfg, t.weights, null, "x", 8).textEmbedding(a, Trace.OFF);
        assertThat(first.get(0).data().asFloat()).containsExactly(plainA.data().asFloat());
        try (var files = Files.list(tmp)) {
            assertThat(files.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("text-"))).hasSize(2);
        }
        // an encoder WITHOUT weights can only answer from the cache: both texts, in the order asked
        CogVlmEncoder cacheOnly = new CogVlmEncoder(t.cfg, new MapTensorSource(), tmp, "fingerprint-1", 8);
        List<INDArray> again = cacheOnly.textEmbeddings(List.of(b, a));
        assertThat(again.get(0).data().asFloat()).containsExactly(first.get(1).data().asFloat());
        assertThat(again.get(1).data().asFloat()).containsExactly(first.get(0).data().asFloat());
        // another text, other weights or another precision are other keys
        assertThatThrownBy(() -> cacheOnly.textEmbeddings(List.of(a, new int[] {4})))
                .hasMessageContaining("no tensor model.embed_tokens.weight");
        CogVlmEncoder other = new CogVlmEncoder(t.cfg, new MapTensorSource(), tmp, "fingerprint-2", 8);
        assertThatThrownBy(() -> other.textEmbeddings(List.of(a))).hasMessageContaining("no tensor model.embed_tokens.weight");
        assertThat(enc.textKey(a)).isNotEqualTo(enc.textKey(b)).isNotEqualTo(other.textKey(a));

        // the least recently used entries beyond the bound are deleted; reading an entry counts as a use
        long now = System.currentTimeMillis();
        for (int i = 0; i < 5; i++) {
            Path p = Files.writeString(tmp.resolve("text-old" + i + ".f32"), "x");
            Files.setLastModifiedTime(p, java.nio.file.attribute.FileTime.fromMillis(now - 3_600_000L * (i + 1)));
        }
        CogVlmEncoder.pruneTexts(tmp, 3);
        try (var files = Files.list(tmp)) {
            assertThat(files.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("text-")).toList())
                    .hasSize(3).doesNotContain("text-old1.f32", "text-old2.f32", "text-old3.f32", "text-old4.f32")
                    .contains("text-old0.f32");
        }
    }

    @Test
    void verifyCheckpointListsEveryProblemAtOnce() {
        Tiny t = new Tiny();
        new CogVlmEncoder(t.cfg, t.weights, null, "x", 1).verifyCheckpoint(); // complete: no error
        MapTensorSource broken = new MapTensorSource();
        for (String n : t.weights.names()) {
            if (n.equals("model.vision.boi")) continue;
            INDArray w = t.weights.raw(n);
            if (n.equals("model.layers.0.input_layernorm.weight")) w = Nd4j.zeros(DataType.FLOAT, 63);
            broken.put(n, w, "F32");
        }
        broken.put("model.extra.weight", Nd4j.zeros(DataType.FLOAT, 1), "F32");
        assertThatThrownBy(() -> new CogVlmEncoder(t.cfg, broken, null, "x", 1).verifyCheckpoint())
                .hasMessageStartingWith("CogVLM2 weights " + broken + " do not match the model:")
                .hasMessageContaining("1 missing (model.vision.boi [1, 1, 64])")
                .hasMessageContaining("1 wrong shape (model.layers.0.input_layernorm.weight is [63], expected [64])")
                .hasMessageContaining("1 unexpected (model.extra.weight)");
    }

    @Test
    void embeddingRowsFromFileEqualRowsFromMemory() {
        Tiny t = new Tiny();
        MapTensorSource mem = new MapTensorSource();
        mem.put(TokenEmbedding.NAME, t.weights.raw(TokenEmbedding.NAME), "F32");
        int last = t.cfg.vocabSize() - 1;
        int[] ids = {t.cfg.bosTokenId(), 0, last, 17, 17};
        INDArray fromFile;
        try (SafetensorsFile file = SafetensorsFile.open(Golden.bundle("cogvlm-tiny").resolve("weights.safetensors"))) {
            fromFile = TokenEmbedding.rows(file, ids, t.cfg.vocabSize(), t.cfg.hiddenSize());
        }
        INDArray fromMem = TokenEmbedding.rows(mem, ids, t.cfg.vocabSize(), t.cfg.hiddenSize());
        assertThat(fromFile.data().asFloat()).containsExactly(fromMem.data().asFloat());
        assertThat(fromFile.getRow(2).data().asFloat()).containsExactly(t.weights.raw(TokenEmbedding.NAME).getRow(last).dup().data().asFloat());
        assertThatThrownBy(() -> TokenEmbedding.rows(mem, new int[] {last + 1}, last + 1, t.cfg.hiddenSize()))
                .hasMessageContaining("token id " + (last + 1) + " outside model.embed_tokens.weight");
    }
}
