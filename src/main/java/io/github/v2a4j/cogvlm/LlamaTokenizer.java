package io.github.v2a4j.cogvlm;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The model's Llama-3 byte-level BPE ({@code tokenizer.json}) through the HF tokenizers library that DJL bundles
 * (runs offline; start the JVM with {@code -Dai.djl.offline=true}). Upstream calls
 * {@code tokenizer.encode(text, add_special_tokens=False)} and prepends {@code bos_token_id} itself, so this class
 * never lets the tokenizer add special tokens, truncate or pad.
 */
public final class LlamaTokenizer implements AutoCloseable {

    /** {@code <|begin_of_text|>}. */
    public static final int BOS = 128000;

    /** {@code <|reserved_special_token_0|>}: upstream sets {@code tokenizer.pad_token_id = 128002} for vision slots. */
    public static final int VISION_SLOT = 128002;

    private final HuggingFaceTokenizer tokenizer;
    private final Path file;

    private LlamaTokenizer(HuggingFaceTokenizer tokenizer, Path file) {
        this.tokenizer = tokenizer;
        this.file = file;
    }

    /** Loads {@code tokenizer.json}; {@code path} is the file or the model directory holding it. */
    public static LlamaTokenizer load(Path path) {
        Path file = Files.isDirectory(path) ? path.resolve("tokenizer.json") : path;
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("tokenizer not found: " + file);
        }
        try {
            HuggingFaceTokenizer t = HuggingFaceTokenizer.builder()
                    .optTokenizerPath(file)
                    .optAddSpecialTokens(false)
                    .optTruncation(false)
                    .optPadding(false)
                    .build();
            return new LlamaTokenizer(t, file);
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("cannot load tokenizer " + file + ": " + e.getMessage(), e);
        }
    }

    /** {@code tokenizer.encode(text, add_special_tokens=False)}. */
    public int[] encode(String text) {
        Encoding e = tokenizer.encode(text, false, false);
        long[] ids = e.getIds();
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) out[i] = Math.toIntExact(ids[i]);
        return out;
    }

    /** The "base" template's sequence for a text-only pass: BOS followed by the query's tokens. */
    public ConversationInput textInput(String query) {
        return ConversationInput.base(BOS, VISION_SLOT, 0, encode(query));
    }

    public String decode(int[] ids) {
        long[] l = new long[ids.length];
        for (int i = 0; i < ids.length; i++) l[i] = ids[i];
        return tokenizer.decode(l, false);
    }

    public Path file() {
        return file;
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
