package dev.tamp.runtime.tokenizer;

/**
 * Token ids of one text with their attention mask (1 for tokens, 0 for padding) and token type ids, all the
 * same length.
 */
public record Encoding(int[] ids, int[] attentionMask, int[] typeIds) {
    public Encoding {
        if (ids.length != attentionMask.length || ids.length != typeIds.length) {
            throw new IllegalArgumentException("ids, attention mask and type ids differ in length: "
                    + ids.length + ", " + attentionMask.length + ", " + typeIds.length);
        }
    }

    public int length() { return ids.length; }
}
