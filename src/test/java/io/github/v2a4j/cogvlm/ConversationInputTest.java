package io.github.v2a4j.cogvlm;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * {@code build_position_ids}: expected values were printed by the upstream function itself
 * (modeling_cogvlm.py @977ffb4, run on torch 1.13 with these token-type rows).
 */
class ConversationInputTest {

    @Test
    void positionIdsMatchUpstreamOnMixedRows() {
        assertThat(ConversationInput.buildPositionIds(new int[] {0, 1, 1, 1, 1, 0, 0})).containsExactly(0, 1, 2, 2, 3, 4, 5);
        assertThat(ConversationInput.buildPositionIds(new int[] {0, 1, 1, 1, 0, 0, 1, 1, 1, 0}))
                .containsExactly(0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
        assertThat(ConversationInput.buildPositionIds(new int[] {1, 1, 0, 1})).containsExactly(0, 1, 2, 3);
        assertThat(ConversationInput.buildPositionIds(new int[] {0, 1, 1, 1, 1})).containsExactly(0, 1, 2, 2, 3);
        assertThat(ConversationInput.buildPositionIds(new int[] {0, 1, 0, 1, 1, 0})).containsExactly(0, 1, 2, 3, 4, 5);
        assertThat(ConversationInput.buildPositionIds(new int[] {0, 0, 0})).containsExactly(0, 1, 2);
    }

    @Test
    void baseVideoPassIsOneImage() {
        // T=3 frames of 66 slots, empty query: [0, 1, 2, 2, ..., 2, 3]
        ConversationInput in = ConversationInput.base(LlamaTokenizer.BOS, LlamaTokenizer.VISION_SLOT, 3 * 66, new int[0]);
        long[] pos = in.positionIds();
        assertThat(pos).hasSize(1 + 198);
        assertThat(pos[0]).isZero();
        assertThat(pos[1]).isEqualTo(1);
        for (int i = 2; i < 198; i++) assertThat(pos[i]).isEqualTo(2);
        assertThat(pos[198]).isEqualTo(3);
        assertThat(in.inputIds()[5]).isEqualTo(LlamaTokenizer.VISION_SLOT);
        assertThat(in.rowsOfType(ConversationInput.VISION_TOKEN_TYPE)).hasSize(198).startsWith(1);
        assertThat(in.rowsOfType(ConversationInput.LANGUAGE_TOKEN_TYPE)).containsExactly(0);
    }
}
