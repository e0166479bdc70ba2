package io.github.v2a4j.cogvlm;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.Gson;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link LlamaTokenizer} on a small byte-level BPE tokenizer.json of the Llama-3 layout (split regex + ByteLevel
 * pre-tokenizer, BPE with merges) that this test writes itself. Byte tokens get id = byte value, merged tokens ids
 * from 256, so every expected id below follows from the merge list by hand.
 *
 * <p>Not covered: the real Llama-3 tokenizer.json (9 MB, not in the repository). Published token ids for real strings
 * would need that file to be meaningful, so none are asserted here.
 */
class LlamaTokenizerTest {

    /** Llama-3 pre-tokenizer split regex. */
    static final String SPLIT =
            "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    static final String[][] MERGES = {
        {"h", "e"}, {"l", "l"}, {"he", "ll"}, {"hell", "o"}, {"Ġ", "w"}, {"o", "r"}, {"Ġw", "or"}, {"l", "d"}
    };

    @TempDir
    static Path dir;

    static LlamaTokenizer tok;

    @BeforeAll
    static void build() throws Exception {
        char[] byteChar = bytesToUnicode();
        Map<String, Integer> vocab = new LinkedHashMap<>();
        for (int b = 0; b < 256; b++) vocab.put(String.valueOf(byteChar[b]), b);
        List<String> merges = new ArrayList<>();
        for (String[] m : MERGES) {
            merges.add(m[0] + " " + m[1]);
            vocab.put(m[0] + m[1], vocab.size());
        }
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("type", "BPE");
        model.put("dropout", null);
        model.put("unk_token", null);
        model.put("continuing_subword_prefix", null);
        model.put("end_of_word_suffix", null);
        model.put("fuse_unk", false);
        model.put("byte_fallback", false);
        model.put("ignore_merges", true);
        model.put("vocab", vocab);
        model.put("merges", merges);
        Map<String, Object> split = new LinkedHashMap<>();
        split.put("type", "Split");
        split.put("pattern", Map.of("Regex", SPLIT));
        split.put("behavior", "Isolated");
        split.put("invert", false);
        Map<String, Object> byteLevel = new LinkedHashMap<>();
        byteLevel.put("type", "ByteLevel");
        byteLevel.put("add_prefix_space", false);
        byteLevel.put("trim_offsets", true);
        byteLevel.put("use_regex", false);
        Map<String, Object> bos = new LinkedHashMap<>();
        bos.put("id", vocab.size());
        bos.put("content", "<|begin_of_text|>");
        bos.put("single_word", false);
        bos.put("lstrip", false);
        bos.put("rstrip", false);
        bos.put("normalized", false);
        bos.put("special", true);
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("version", "1.0");
        json.put("truncation", null);
        json.put("padding", null);
        json.put("added_tokens", List.of(bos));
        json.put("normalizer", null);
        json.put("pre_tokenizer", Map.of("type", "Sequence", "pretokenizers", List.of(split, byteLevel)));
        json.put("post_processor", Map.of("type", "ByteLevel", "add_prefix_space", true, "trim_offsets", false, "use_regex", true));
        json.put("decoder", Map.of("type", "ByteLevel", "add_prefix_space", true, "trim_offsets", true, "use_regex", true));
        json.put("model", model);
        Path file = dir.resolve("tokenizer.json");
        Files.writeString(file, new Gson().newBuilder().serializeNulls().create().toJson(json), StandardCharsets.UTF_8);
        tok = LlamaTokenizer.load(dir);
    }

    @AfterAll
    static void close() {
        if (tok != null) tok.close();
    }

    /** GPT-2 / tiktoken byte → printable character table used by the ByteLevel pre-tokenizer. */
    static char[] bytesToUnicode() {
        char[] out = new char[256];
        int n = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            out[b] = printable ? (char) b : (char) (256 + n++);
        }
        return out;
    }

    @Test
    void mergesApplyInRankOrder() {
        // "hello" -> he,l,l,o -> he,ll,o -> hell,o -> hello (259); " world" -> Ġw,o,r,l,d -> ... -> Ġwor (262), ld (263)
        assertThat(tok.encode("hello world")).containsExactly(259, 262, 263);
    }

    @Test
    void nonAsciiFallsBackToByteTokens() {
        // é = C3 A9, 日 = E6 97 A5; byte tokens have id = byte value
        assertThat(tok.encode("héllo")).containsExactly('h', 0xC3, 0xA9, 257, 'o');
        assertThat(tok.encode("日")).containsExactly(0xE6, 0x97, 0xA5);
        assertThat(tok.decode(tok.encode("héllo 日本"))).isEqualTo("héllo 日本");
    }

    @Test
    void emptyQueryGivesNoTokens() {
        assertThat(tok.encode("")).isEmpty();
    }

    @Test
    void textInputIsBosThenTextAllLanguageType() {
        ConversationInput in = tok.textInput("hello world");
        assertThat(in.inputIds()).containsExactly(LlamaTokenizer.BOS, 259, 262, 263);
        assertThat(in.tokenTypeIds()).containsOnly(0);
        assertThat(in.positionIds()).containsExactly(0, 1, 2, 3);
    }

    @Test
    void specialTokensAreNotAddedByTheTokenizer() {
        // the post-processor must not add anything: upstream passes add_special_tokens=False and prepends BOS itself
        assertThat(tok.encode("he")).containsExactly(256);
    }
}
