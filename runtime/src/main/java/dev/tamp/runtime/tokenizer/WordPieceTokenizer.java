package dev.tamp.runtime.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tamp.core.error.UnsupportedModelException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * BERT's tokenizer from a Hugging Face tokenizer.json: BertNormalizer, BertPreTokenizer (split on whitespace
 * and punctuation), WordPiece (greedy longest-match-first with the "##" continuation prefix; words longer
 * than max_input_chars_per_word or with no segmentation become [UNK]), and the [CLS] … [SEP] template.
 */
public final class WordPieceTokenizer implements Tokenizer {
    private final BertNormalizer normalizer;
    private final Map<String, Integer> vocab;
    private final String[] byId;
    private final String prefix;
    private final int maxWordChars;
    private final int unk, cls, sep, pad;
    private final int defaultMaxLength;

    WordPieceTokenizer(JsonNode json) {
        JsonNode norm = json.path("normalizer");
        if (!norm.isMissingNode() && !norm.isNull() && !norm.path("type").asText().equals("BertNormalizer")) {
            throw new UnsupportedModelException("tokenizer normalizer " + norm.path("type").asText() + " is not supported with WordPiece");
        }
        JsonNode sa = norm.path("strip_accents");
        normalizer = new BertNormalizer(norm.path("clean_text").asBoolean(true), norm.path("handle_chinese_chars").asBoolean(true),
                sa.isBoolean() ? sa.asBoolean() : null, norm.path("lowercase").asBoolean(true));
        JsonNode model = json.path("model");
        vocab = new HashMap<>();
        model.path("vocab").fields().forEachRemaining(e -> vocab.put(e.getKey(), e.getValue().asInt()));
        int max = vocab.values().stream().mapToInt(Integer::intValue).max().orElse(-1);
        byId = new String[max + 1];
        vocab.forEach((k, v) -> byId[v] = k);
        prefix = model.path("continuing_subword_prefix").asText("##");
        maxWordChars = model.path("max_input_chars_per_word").asInt(100);
        unk = id(model.path("unk_token").asText("[UNK]"));
        cls = id("[CLS]");
        sep = id("[SEP]");
        pad = vocab.getOrDefault("[PAD]", 0);
        JsonNode trunc = json.path("truncation");
        defaultMaxLength = trunc.isObject() ? trunc.path("max_length").asInt(512) : 512;
    }

    private int id(String token) {
        Integer i = vocab.get(token);
        if (i == null) throw new UnsupportedModelException("tokenizer vocabulary has no " + token);
        return i;
    }

    @Override
    public Encoding encode(String text, int maxLength) {
        int limit = maxLength > 0 ? maxLength : defaultMaxLength;
        List<Integer> ids = new ArrayList<>();
        ids.add(cls);
        for (String word : preTokenize(normalizer.normalize(text))) {
            if (ids.size() >= limit - 1) break;
            wordPiece(word, ids);
        }
        if (ids.size() > limit - 1) ids.subList(limit - 1, ids.size()).clear();
        ids.add(sep);
        int[] a = ids.stream().mapToInt(Integer::intValue).toArray();
        int[] mask = new int[a.length];
        java.util.Arrays.fill(mask, 1);
        return new Encoding(a, mask, new int[a.length]);
    }

    /** Whitespace-separated words, with every punctuation character its own word. */
    static List<String> preTokenize(String s) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        s.codePoints().forEach(c -> {
            if (BertNormalizer.isWhitespace(c)) {
                flush(cur, out);
            } else if (isPunctuation(c)) {
                flush(cur, out);
                out.add(new String(Character.toChars(c)));
            } else {
                cur.appendCodePoint(c);
            }
        });
        flush(cur, out);
        return out;
    }

    private static void flush(StringBuilder cur, List<String> out) {
        if (cur.length() > 0) {
            out.add(cur.toString());
            cur.setLength(0);
        }
    }

    static boolean isPunctuation(int c) {
        if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126)) return true;
        int t = Character.getType(c);
        return t == Character.CONNECTOR_PUNCTUATION || t == Character.DASH_PUNCTUATION || t == Character.START_PUNCTUATION
                || t == Character.END_PUNCTUATION || t == Character.INITIAL_QUOTE_PUNCTUATION || t == Character.FINAL_QUOTE_PUNCTUATION
                || t == Character.OTHER_PUNCTUATION;
    }

    private void wordPiece(String word, List<Integer> out) {
        int[] cps = word.codePoints().toArray();
        if (cps.length > maxWordChars) {
            out.add(unk);
            return;
        }
        List<Integer> pieces = new ArrayList<>();
        int start = 0;
        while (start < cps.length) {
            int end = cps.length;
            Integer found = null;
            while (start < end) {
                String sub = new String(cps, start, end - start);
                if (start > 0) sub = prefix + sub;
                Integer id = vocab.get(sub);
                if (id != null) {
                    found = id;
                    break;
                }
                end--;
            }
            if (found == null) {
                out.add(unk);
                return;
            }
            pieces.add(found);
            start = end;
        }
        out.addAll(pieces);
    }

    @Override
    public String decode(int[] ids) {
        StringBuilder sb = new StringBuilder();
        for (int id : ids) {
            if (id == cls || id == sep || id == pad || id < 0 || id >= byId.length || byId[id] == null) continue;
            String t = byId[id];
            if (t.startsWith(prefix)) sb.append(t.substring(prefix.length()));
            else {
                if (sb.length() > 0) sb.append(' ');
                sb.append(t);
            }
        }
        return sb.toString();
    }

    @Override public int vocabSize() { return byId.length; }

    @Override public int padId() { return pad; }
}
