package dev.tamp.runtime.tokenizer;

/** Token ids of one text with their attention mask and token type ids (same length). */
public record Encoding(int[] ids, int[] attentionMask, int[] typeIds) {
    public int length() { return ids.length; }
}
