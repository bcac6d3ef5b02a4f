package dev.tamp.runtime.tokenizer;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.io.ByteArrayInputStream;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Runs texts through our tokenizer and the reference (Hugging Face tokenizers in Rust, through DJL, offline)
 * and counts the texts whose ids, attention mask or type ids differ, keeping the first difference to report.
 */
final class ReferenceComparison {
    int texts;
    int mismatches;
    String first;

    static HuggingFaceTokenizer reference(byte[] json, Map<String, String> options) throws Exception {
        return HuggingFaceTokenizer.newInstance(new ByteArrayInputStream(json), options);
    }

    static int[] ints(long[] a) {
        return Arrays.stream(a).mapToInt(x -> (int) x).toArray();
    }

    void compare(String text, ai.djl.huggingface.tokenizers.Encoding want, Encoding got) {
        texts++;
        String diff = null;
        if (!Arrays.equals(ints(want.getIds()), got.ids())) diff = "ids";
        else if (!Arrays.equals(ints(want.getAttentionMask()), got.attentionMask())) diff = "attention mask";
        else if (!Arrays.equals(ints(want.getTypeIds()), got.typeIds())) diff = "type ids";
        if (diff != null) {
            mismatches++;
            if (first == null) {
                first = diff + " differ for '" + abbreviate(text) + "'\n  reference " + Arrays.toString(want.getIds())
                        + " mask " + Arrays.toString(want.getAttentionMask()) + " types " + Arrays.toString(want.getTypeIds())
                        + "\n  ours      " + Arrays.toString(got.ids()) + " mask " + Arrays.toString(got.attentionMask())
                        + " types " + Arrays.toString(got.typeIds());
            }
        }
    }

    void compareAll(List<String> texts, HuggingFaceTokenizer ref, Function<String, Encoding> ours) {
        for (String t : texts) compare(t, ref.encode(t), ours.apply(t));
    }

    void compareText(String input, String want, String got) {
        texts++;
        if (!want.equals(got)) {
            mismatches++;
            if (first == null) first = "decoded text differs for '" + abbreviate(input) + "'\n  reference '" + want + "'\n  ours      '" + got + "'";
        }
    }

    String summary(String what) {
        return what + ": " + mismatches + " of " + texts + " differ" + (first == null ? "" : "; first: " + first);
    }

    static String abbreviate(String s) {
        return s.length() > 120 ? s.substring(0, 120) + "…(" + s.length() + " chars)" : s;
    }
}
