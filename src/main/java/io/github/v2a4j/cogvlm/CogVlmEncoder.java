package io.github.v2a4j.cogvlm;

import io.github.v2a4j.io.CacheDir;
import io.github.v2a4j.io.MapSource;
import io.github.v2a4j.io.OutputFile;
import io.github.v2a4j.io.Safetensors;
import io.github.v2a4j.io.TensorSource;
import io.github.v2a4j.io.WeightsCheck;
import io.github.v2a4j.nn.Binder;
import io.github.v2a4j.nn.Buffers;
import io.github.v2a4j.nn.Precision;
import io.github.v2a4j.nn.Trace;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * What K4 takes from CogVLM2-video: {@code extract_video_embedding} and {@code extract_text_embedding}.
 *
 * <ul>
 *   <li>{@link #videoEmbedding}: uint8 clip {@code (3,T,H,W)} → preprocess → vision tower → sequence BOS + 66·T
 *       vision rows → decoder layers 0..n−2 → the 66·T vision rows → mean over each frame's 66 rows → {@code (T, hidden)}.
 *   <li>{@link #textEmbedding}: BOS + text ids → decoder layers 0..n−2 → all rows (all are type 0) → zero-padded or
 *       truncated to 100 rows → {@code (100, hidden)}.
 *   <li>{@link #unconditionalVideoEmbedding}: K4's {@code extract_video_embedding(images*0)}, i.e. the same pass on an
 *       all-black clip. It depends only on the weights and the preprocessed black clip, so it is cached on disk
 *       (see {@link #cacheKey}) and a normal run needs one video pass instead of two.
 * </ul>
 * The text embeddings of {@link #textEmbeddings} are cached the same way, keyed on the token ids.
 */
public final class CogVlmEncoder {

    /** Names the model in weight errors. */
    public static final String COMPONENT = "CogVLM2";

    /**
     * What a pass's buffer pool may keep unused: a decoder layer's working set at real size (about 2.2 GB of
     * activations at 6337 tokens, plus the layer's packed weights), so that every layer after the first takes all
     * its buffers from the pool. Streaming 4 decoder layers from the bf16 model took 5.8 s per layer after the first
     * with 4 GiB against 6.0 s with 2 GiB, at the same peak RSS (4.18 / 4.15 GB).
     */
    static final long POOL_BUDGET = 4L << 30;

    /** K4's {@code extract_text_embedding(max_len=100)}. */
    public static final int TEXT_ROWS = 100;

    private final CogVlmConfig cfg;
    private final TensorSource source;
    private final VideoPreprocessor preprocessor;
    private final VisionTower vision;
    private final LlamaDecoder decoder;
    private final Path cacheDir;
    private final String weightsFingerprint;
    private final Precision precision;
    private Progress progress = Progress.NONE;

    /**
     * @param cacheDir where unconditional embeddings are kept (null: no cache)
     * @param weightsFingerprint the content identity of the checkpoint ({@link WeightsCheck#fingerprint}): the cache
     *                           key of the black-video embedding, so a changed weight never reuses an old entry
     * @param frameChunk frames per vision-layer call (bounds the MLP intermediate; 8 keeps it near 126 MB at real size)
     */
    public CogVlmEncoder(CogVlmConfig cfg, TensorSource source, Path cacheDir, String weightsFingerprint, int frameChunk) {
        this(cfg, source, cacheDir, weightsFingerprint, frameChunk, Precision.FP32);
    }

    /** As above, with the products of every layer in {@code precision}. */
    public CogVlmEncoder(CogVlmConfig cfg, TensorSource source, Path cacheDir, String weightsFingerprint, int frameChunk,
                         Precision precision) {
        this.cfg = cfg;
        this.source = source;
        this.precision = precision;
        this.preprocessor = new VideoPreprocessor(cfg.vision().imageSize());
        this.vision = new VisionTower(cfg, source, frameChunk, precision);
        this.decoder = new LlamaDecoder(cfg, source, precision);
        this.cacheDir = cacheDir;
        this.weightsFingerprint = weightsFingerprint;
    }

    /**
     * Opens a model folder as published (config.json, model.safetensors.index.json + shards, or single files; bf16 or
     * converted F32), with the unconditional-embedding cache in {@link CacheDir#choose}'s folder. Checks the
     * checkpoint against the config, and every weight for NaN and Inf ({@link WeightsCheck}), before anything runs.
     */
    public static CogVlmEncoder open(Path modelDir, int frameChunk) {
        CogVlmConfig cfg = CogVlmConfig.read(modelDir.resolve("config.json"));
        Safetensors weights = Safetensors.open(modelDir);
        try {
            verifyCheckpoint(cfg, weights); // names, shapes and dtypes first: headers only
            Path cache = CacheDir.choose(null, modelDir);
            String fingerprint = WeightsCheck.fingerprint(modelDir, cache.resolve(CacheDir.WEIGHT_STAMPS));
            return new CogVlmEncoder(cfg, weights, cache, fingerprint, frameChunk);
        } catch (RuntimeException e) {
            weights.close();
            throw e;
        }
    }

    /** The weights this encoder reads (closing it unmaps the checkpoint). */
    public TensorSource weights() {
        return source;
    }

    /**
     * Checks every tensor name, shape and dtype the encoder will read against the checkpoint headers (no data is
     * read), and that nothing else is left over. Throws one error naming the checkpoint and every problem.
     */
    public void verifyCheckpoint() {
        verifyCheckpoint(cfg, source);
    }

    /** {@link #verifyCheckpoint()} before an encoder exists (a pipeline checks every part before any work). */
    public static void verifyCheckpoint(CogVlmConfig cfg, TensorSource source) {
        Binder check = Binder.check(source, COMPONENT);
        VisionTower.declare(check, cfg);
        LlamaDecoder.declare(check, cfg);
        check.verify();
    }

    /** Where per-layer progress of the following passes goes (the pipeline maps it onto its stage display). */
    public CogVlmEncoder progress(Progress progress) {
        this.progress = progress == null ? Progress.NONE : progress;
        return this;
    }

    public CogVlmConfig config() {
        return cfg;
    }

    /** {@link Progress} steps of a video pass: every vision layer, the adapter, every decoder layer used. */
    public int videoPassSteps() {
        return vision.steps() + decoder.layersUsed();
    }

    /** {@link Progress} steps of a text pass: every decoder layer used. */
    public int textPassSteps() {
        return decoder.layersUsed();
    }

    /** {@code extract_video_embedding(video)}: uint8 {@code (3, T, H, W)} → {@code (T, hidden)}. */
    public INDArray videoEmbedding(byte[] video, int frames, int height, int width, Trace trace) {
        INDArray images = preprocessor.preprocess(video, frames, height, width);
        return embedPreprocessed(images, trace);
    }

    /** As {@link #videoEmbedding(byte[], int, int, int, Trace)} for a (small) clip held as an array {@code (3, T, H, W)}. */
    public INDArray videoEmbedding(INDArray video, Trace trace) {
        return embedPreprocessed(preprocessor.preprocess(video), trace);
    }

    /** The video pass from preprocessed frames {@code (T, 3, 224, 224)}. */
    public INDArray embedPreprocessed(INDArray images, Trace trace) {
        try (Buffers.Pool ignored = Buffers.open(POOL_BUDGET)) {
            return embed(images, trace);
        }
    }

    private INDArray embed(INDArray images, Trace trace) {
        int frames = (int) images.size(0);
        int perFrame = cfg.tokensPerFrame();
        Progress.Counter steps = Progress.counter(progress, vision.steps() + decoder.layersUsed());
        INDArray features = vision.forward(images, trace, steps); // (T, 66, hidden)
        long d = cfg.hiddenSize();
        ConversationInput input = ConversationInput.base(cfg.bosTokenId(), cfg.padTokenId(), perFrame * frames, new int[0]);
        INDArray hidden = decoder.hiddenStates(input, features.reshape('c', (long) perFrame * frames, d), trace, steps);
        Buffers.release(features);
        int[] rows = input.rowsOfType(ConversationInput.VISION_TOKEN_TYPE);
        INDArray visionRows = hidden.get(NDArrayIndex.interval(rows[0], rows[rows.length - 1] + 1), NDArrayIndex.all());
        // rows are contiguous (BOS, then every slot): reshape (T, 66, hidden) and average each frame's 66 rows
        INDArray out = visionRows.dup('c').reshape('c', frames, perFrame, d).mean(1);
        Buffers.release(hidden);
        return out;
    }

    /**
     * {@code extract_text_embedding(text)} from the text's token ids (without BOS; {@link LlamaTokenizer#encode}):
     * {@code (100, hidden)}.
     */
    public INDArray textEmbedding(int[] textIds, Trace trace) {
        try (Buffers.Pool ignored = Buffers.open(POOL_BUDGET)) {
            return text(textIds, trace);
        }
    }

    private INDArray text(int[] textIds, Trace trace) {
        ConversationInput input = ConversationInput.base(cfg.bosTokenId(), cfg.padTokenId(), 0, textIds);
        INDArray hidden = decoder.hiddenStates(input, null, trace, Progress.counter(progress, decoder.layersUsed()));
        INDArray out = padRows(hidden);
        Buffers.release(hidden);
        return out;
    }

    /**
     * {@link #textEmbedding} of several texts in one sweep over the decoder weights (prompt and negative prompt:
     * at real size this halves the bf16 → fp32 conversion work of the text passes). Same results as one call each.
     * With a cache folder each text's embedding is kept there, keyed like the black-video embedding, so a prompt
     * used before costs no pass (at real size a text pass streams all 31 decoder layers: 12–53 s here).
     */
    public List<INDArray> textEmbeddings(List<int[]> textIds) {
        List<INDArray> out = new ArrayList<>(java.util.Collections.nCopies(textIds.size(), (INDArray) null));
        Path[] files = new Path[textIds.size()];
        List<Integer> missing = new ArrayList<>();
        for (int i = 0; i < textIds.size(); i++) {
            if (cacheDir != null) {
                files[i] = cacheDir.resolve("text-" + textKey(textIds.get(i)) + ".f32");
                INDArray cached = Files.isRegularFile(files[i]) ? readCache(files[i], TEXT_ROWS, cfg.hiddenSize()) : null;
                if (cached != null) {
                    touch(files[i]);
                    out.set(i, cached);
                    continue;
                }
            }
            missing.add(i);
        }
        if (missing.isEmpty()) return out;
        List<int[]> todo = new ArrayList<>();
        for (int i : missing) todo.add(textIds.get(i));
        List<INDArray> computed;
        try (Buffers.Pool ignored = Buffers.open(POOL_BUDGET)) {
            computed = texts(todo);
        }
        for (int j = 0; j < missing.size(); j++) {
            int i = missing.get(j);
            out.set(i, computed.get(j));
            if (files[i] != null) writeCache(files[i], computed.get(j));
        }
        if (cacheDir != null) pruneTexts(cacheDir, MAX_CACHED_TEXTS);
        return out;
    }

    /**
     * Text embeddings the cache keeps at most (1.6 MB each at real size); past that the least recently used go. A
     * service that sees many prompts keeps the frequent ones (the default prompt and negative prompt above all)
     * without the folder growing with every request.
     */
    static final int MAX_CACHED_TEXTS = 64;

    /** sha256 over the weights fingerprint, the precision, the config and the token ids. */
    String textKey(int[] ids) {
        MessageDigest md = sha256();
        md.update(weightsFingerprint.getBytes(StandardCharsets.UTF_8));
        if (precision != Precision.FP32) md.update(precision.label().getBytes(StandardCharsets.UTF_8));
        md.update(cfg.toString().getBytes(StandardCharsets.UTF_8));
        ByteBuffer b = ByteBuffer.allocate(4 + ids.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(ids.length);
        for (int id : ids) b.putInt(id);
        md.update(b.array());
        return HexFormat.of().formatHex(md.digest()).substring(0, 24);
    }

    /** Marks a cache entry as used now (its modification time orders {@link #pruneTexts}); best effort. */
    private static void touch(Path file) {
        try {
            Files.setLastModifiedTime(file, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis()));
        } catch (IOException | RuntimeException e) {
            // a read-only cache still serves its entries
        }
    }

    /** Deletes the least recently used {@code text-*.f32} entries of {@code dir} beyond {@code keep}; best effort. */
    static void pruneTexts(Path dir, int keep) {
        List<Path> entries = new ArrayList<>();
        try (var list = Files.newDirectoryStream(dir, "text-*.f32")) {
            for (Path p : list) entries.add(p);
        } catch (IOException | RuntimeException e) {
            return;
        }
        if (entries.size() <= keep) return;
        Map<Path, Long> used = new java.util.HashMap<>();
        for (Path p : entries) {
            try {
                used.put(p, Files.getLastModifiedTime(p).toMillis());
            } catch (IOException e) {
                used.put(p, 0L);
            }
        }
        entries.sort(java.util.Comparator.comparing((Path p) -> used.get(p)).reversed().thenComparing(Path::toString));
        for (Path p : entries.subList(keep, entries.size())) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException e) {
                // another process may hold or have removed it: the next prune tries again
            }
        }
    }

    private List<INDArray> texts(List<int[]> textIds) {
        List<ConversationInput> inputs = new ArrayList<>();
        for (int[] ids : textIds) inputs.add(ConversationInput.base(cfg.bosTokenId(), cfg.padTokenId(), 0, ids));
        List<INDArray> hidden = decoder.textHiddenStates(inputs, Progress.counter(progress, decoder.layersUsed()));
        List<INDArray> out = new ArrayList<>();
        for (INDArray h : hidden) {
            out.add(padRows(h));
            Buffers.release(h);
        }
        return out;
    }

    /** K4's zero padding / truncation of the text rows to {@link #TEXT_ROWS}. */
    private INDArray padRows(INDArray hidden) {
        INDArray out = Nd4j.zeros(hidden.dataType(), TEXT_ROWS, cfg.hiddenSize());
        int n = (int) Math.min(TEXT_ROWS, hidden.size(0));
        out.get(NDArrayIndex.interval(0, n), NDArrayIndex.all()).assign(hidden.get(NDArrayIndex.interval(0, n), NDArrayIndex.all()));
        return out;
    }

    /**
     * {@code extract_video_embedding(images*0)} for a clip of {@code frames} black frames of {@code height×width},
     * read from the cache when present, else computed and stored.
     */
    public INDArray unconditionalVideoEmbedding(int frames, int height, int width) {
        // Preprocessing is per frame: one black frame, repeated, equals the preprocessed black clip bit for bit.
        INDArray one = preprocessor.preprocess(new byte[3 * height * width], 1, height, width);
        INDArray images = one.repeat(0, frames);
        Path file = cacheDir == null ? null : cacheDir.resolve("uncond-video-T" + frames + "-" + cacheKey(images) + ".f32");
        if (file != null && Files.isRegularFile(file)) {
            INDArray cached = readCache(file, frames, cfg.hiddenSize());
            if (cached != null) return cached;
        }
        INDArray out = embedPreprocessed(images, Trace.OFF);
        if (file != null) writeCache(file, out);
        return out;
    }

    /**
     * sha256 over the weights fingerprint, the precision and the preprocessed black clip (its exact float bits:
     * bilinear scaling of a constant can differ in the last bit with the input size, so H and W alone would not be
     * an exact key).
     */
    String cacheKey(INDArray images) {
        MessageDigest md = sha256();
        md.update(weightsFingerprint.getBytes(StandardCharsets.UTF_8));
        // bf16 products give another embedding; fp32, the default, adds nothing to the key
        if (precision != Precision.FP32) md.update(precision.label().getBytes(StandardCharsets.UTF_8));
        md.update(cfg.toString().getBytes(StandardCharsets.UTF_8));
        float[] f = images.dup('c').data().asFloat();
        ByteBuffer b = ByteBuffer.allocate(f.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(f);
        md.update(b.array());
        return HexFormat.of().formatHex(md.digest()).substring(0, 24);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static final int CACHE_MAGIC = 0x56324155; // "V2AU"

    /**
     * Null when the file is unreadable, has another shape or holds NaN or Inf (then the pass is recomputed and the
     * file replaced).
     */
    private static INDArray readCache(Path file, int rows, long hidden) {
        try (DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(Files.newInputStream(file)))) {
            if (in.readInt() != CACHE_MAGIC || in.readInt() != rows || in.readInt() != hidden) return null;
            float[] f = new float[(int) (rows * hidden)];
            for (int i = 0; i < f.length; i++) {
                f[i] = in.readFloat();
                if (!Float.isFinite(f[i])) return null; // a damaged entry is computed again, never used
            }
            return Nd4j.create(f, new long[] {rows, hidden}, 'c');
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * Written through {@link OutputFile}, so neither a crash nor Ctrl-C leaves a half-written entry. A cache that
     * cannot be written is reported once and the run goes on: the entry is only an optimisation.
     */
    private static void writeCache(Path file, INDArray emb) {
        float[] f = emb.dup('c').data().asFloat();
        try {
            Files.createDirectories(file.getParent());
            OutputFile.write(file, true, tmp -> {
                try (DataOutputStream out = new DataOutputStream(new java.io.BufferedOutputStream(Files.newOutputStream(tmp)))) {
                    out.writeInt(CACHE_MAGIC);
                    out.writeInt((int) emb.size(0));
                    out.writeInt((int) emb.size(1));
                    for (float v : f) out.writeFloat(v);
                }
            });
        } catch (Exception e) {
            CacheDir.warnOnce(file.getParent(), e);
        }
    }

    /**
     * Every tensor the encoder reads (layers 0..n−2, no final norm or lm_head), with its shape, from a dry run of
     * the blocks (no tensor is allocated).
     */
    public static Map<String, long[]> parameterShapes(CogVlmConfig cfg) {
        Binder check = Binder.check(MapSource.empty(), COMPONENT);
        VisionTower.declare(check, cfg);
        LlamaDecoder.declare(check, cfg);
        return check.parameters();
    }
}
