package dev.tamp.runtime.tokenizer;

import java.util.ArrayList;
import java.util.List;

/** Text → token ids, as the model's reference (Hugging Face tokenizers) does it. */
public interface Tokenizer {
    /** Encodes one text with the model's special tokens, truncated to {@code maxLength} (≤ 0: the tokenizer's own). */
    Encoding encode(String text, int maxLength);

    String decode(int[] ids);

    int vocabSize();

    int padId();

    /** Encodes texts and right-pads them to the longest (mask 0 on padding). */
    default List<Encoding> encodeBatch(List<String> texts, int maxLength) {
        List<Encoding> raw = new ArrayList<>();
        int longest = 0;
        for (String t : texts) {
            Encoding e = encode(t, maxLength);
            raw.add(e);
            longest = Math.max(longest, e.length());
        }
        List<Encoding> out = new ArrayList<>();
        for (Encoding e : raw) {
            int[] ids = new int[longest], mask = new int[longest], types = new int[longest];
            java.util.Arrays.fill(ids, padId());
            System.arraycopy(e.ids(), 0, ids, 0, e.length());
            System.arraycopy(e.attentionMask(), 0, mask, 0, e.length());
            System.arraycopy(e.typeIds(), 0, types, 0, e.length());
            out.add(new Encoding(ids, mask, types));
        }
        return out;
    }
}
