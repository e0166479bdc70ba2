package io.github.v2a4j.cogvlm;

import java.util.Arrays;

/**
 * The token sequence of {@code build_conversation_input_ids} for {@code template_version="base"}:
 * BOS (type 0), then {@code tokensPerFrame·T} vision slots (type 1) when a video is given, then the
 * query's tokens (type 0). "base" adds no time-index tokens and no "Question:/Answer:" wrapper, so the text is the
 * query itself.
 */
public record ConversationInput(int[] inputIds, int[] tokenTypeIds) {

    public static final int LANGUAGE_TOKEN_TYPE = 0;
    public static final int VISION_TOKEN_TYPE = 1;

    /** {@code bos} + {@code visionSlots} slots of id {@code slotId} + {@code textIds}. */
    public static ConversationInput base(int bos, int slotId, int visionSlots, int[] textIds) {
        int n = 1 + visionSlots + textIds.length;
        int[] ids = new int[n];
        int[] types = new int[n];
        ids[0] = bos;
        for (int i = 0; i < visionSlots; i++) {
            ids[1 + i] = slotId;
            types[1 + i] = VISION_TOKEN_TYPE;
        }
        System.arraycopy(textIds, 0, ids, 1 + visionSlots, textIds.length);
        return new ConversationInput(ids, types);
    }

    public int length() {
        return inputIds.length;
    }

    /** Indices of the rows of type {@code type}, in order (K4 selects output rows this way). */
    public int[] rowsOfType(int type) {
        return java.util.stream.IntStream.range(0, tokenTypeIds.length).filter(i -> tokenTypeIds[i] == type).toArray();
    }

    /**
     * {@code build_position_ids(token_type_ids)} with an all-ones attention mask: a vision token whose left or right
     * neighbour is a language token (or the sequence edge) counts as boi/eoi and is relabelled language; then the
     * position advances on every language token and on the first vision token after a language token, and stays
     * put inside an image. For a "base" video pass that gives {@code [0, 1, 2, 2, …, 2, 3]}: the whole video is one
     * image because "base" puts nothing between frames.
     */
    public static long[] buildPositionIds(int[] tokenTypes) {
        int n = tokenTypes.length;
        int[] tmp = Arrays.copyOf(tokenTypes, n);
        boolean[] boiEoi = new boolean[n];
        for (int i = 0; i < n; i++) {
            if (tokenTypes[i] != VISION_TOKEN_TYPE) continue;
            boolean leftIsLanguage = i == 0 || tokenTypes[i - 1] == LANGUAGE_TOKEN_TYPE;
            boolean rightIsLanguage = i == n - 1 || tokenTypes[i + 1] == LANGUAGE_TOKEN_TYPE;
            boiEoi[i] = leftIsLanguage || rightIsLanguage;
        }
        for (int i = 0; i < n; i++) if (boiEoi[i]) tmp[i] = LANGUAGE_TOKEN_TYPE;
        long[] pos = new long[n];
        for (int i = 1; i < n; i++) {
            boolean step = tmp[i] == LANGUAGE_TOKEN_TYPE
                    || (tmp[i] == VISION_TOKEN_TYPE && tmp[i - 1] == LANGUAGE_TOKEN_TYPE);
            pos[i] = pos[i - 1] + (step ? 1 : 0);
        }
        return pos;
    }

    public long[] positionIds() {
        return buildPositionIds(tokenTypeIds);
    }
}
