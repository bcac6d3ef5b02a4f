package dev.tamp.runtime.tokenizer;

import java.util.List;
import java.util.Map;

/**
 * Text → token ids exactly as the model's reference (Hugging Face tokenizers, from the same tokenizer.json)
 * produces them: added tokens split out first, then normalizer, pre-tokenizer, model, truncation and the
 * post-processor's special tokens. Implementations are immutable and safe to share between threads.
 */
public interface Tokenizer {
    /** One text with the model's special tokens, truncated as the tokenizer.json's {@code truncation} says; no padding. */
    Encoding encode(String text);

    /**
     * One text with the model's special tokens, truncated to {@code maxLength} tokens (special tokens included);
     * {@code maxLength ≤ 0} means the tokenizer.json's truncation, else {@link #defaultMaxLength()}. No padding.
     */
    Encoding encode(String text, int maxLength);

    /**
     * Texts truncated like {@link #encode(String, int)} and padded with {@link #padId()} (attention mask 0): to the
     * longest in the batch when {@code padToLongest}, else to the fixed length {@code maxLength} (or the
     * tokenizer.json's fixed padding when {@code maxLength ≤ 0}; no padding when neither is known).
     */
    List<Encoding> encodeBatch(List<String> texts, int maxLength, boolean padToLongest);

    /** {@link #encodeBatch(List, int, boolean)} padded to the longest. */
    default List<Encoding> encodeBatch(List<String> texts, int maxLength) {
        return encodeBatch(texts, maxLength, true);
    }

    /** Text of the ids through the tokenizer.json's decoder, special tokens left out. */
    default String decode(int[] ids) {
        return decode(ids, true);
    }

    String decode(int[] ids, boolean skipSpecialTokens);

    /** Number of ids (largest id + 1, added tokens included). */
    int vocabSize();

    /** The token an id stands for, or null when no token has that id. */
    String idToToken(int id);

    /** The id of a token (vocabulary or added), or -1. */
    int tokenToId(String token);

    /** Added tokens flagged special in the tokenizer.json, content → id, in file order. */
    Map<String, Integer> specialTokens();

    /** Id used for padding: the tokenizer.json's padding pad_id, else its pad token, else 0. */
    int padId();

    /** Id of the unknown token, or -1 when the model has none. */
    int unkId();

    /** Truncation length used when no caller length is given: the tokenizer.json's, else a model default (0: none). */
    int defaultMaxLength();
}
