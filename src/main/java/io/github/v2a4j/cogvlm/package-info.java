/**
 * CogVLM2-video-llama3 as Kandinsky-4 V2A uses it: the video and text embeddings of
 * {@code extract_video_embedding} / {@code extract_text_embedding}.
 *
 * <p>Entry point: {@link io.github.v2a4j.cogvlm.CogVlmEncoder}. Blocks, one class per upstream module, named and
 * traced by the upstream module path:
 * <ul>
 *   <li>{@code VideoPreprocessor} — the transform of {@code build_conversation_input_ids};
 *   <li>{@code VisionTower} ({@code model.vision}) = {@code PatchEmbedding}, {@code VisionTransformerLayer}
 *       ({@code VisionAttention}, {@code VisionMlp}), the 2×2 {@code conv}, {@code VisionGlu}, boi/eoi;
 *   <li>{@code LlamaDecoder} ({@code model}) = {@code TokenEmbedding}, {@code DecoderLayer} ({@code DecoderAttention}
 *       with {@code RotaryEmbedding}, {@code DecoderMlp}); layers 0..n−2 only ({@code hidden_states[-2]});
 *   <li>{@code ConversationInput} — the "base" sequence, token types and {@code build_position_ids};
 *       {@code LlamaTokenizer} — tokenizer.json through DJL.
 * </ul>
 *
 * <p>Memory: the checkpoint (25 GB bf16) is never converted as a whole. a A {@code nn.Binder} loads one block's weights
 * (bf16 → fp32), the block runs over the whole batch (all frames, all tokens), and the converted arrays are released
 * before the next block; token-embedding rows are read straight from the file. The tiny F32 goldens and the real
 * bf16 checkpoint take the same path (tested with a BF16-labelled copy of the tiny weights).
 */
package io.github.v2a4j.cogvlm;
