package dev.tamp.runtime.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tamp.core.error.BadInputException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The tokenizer.json's {@code added_tokens}: found in the text before anything else runs and never split.
 * Tokens marked {@code normalized: false} are matched in the raw text, the others in the normalized text
 * between those. Matching is leftmost-longest; {@code single_word}, {@code lstrip} and {@code rstrip} behave as
 * in Hugging Face tokenizers.
 */
final class AddedVocabulary {
    record AddedToken(String content, int id, boolean singleWord, boolean lstrip, boolean rstrip, boolean normalized, boolean special) {}

    /** A stretch of the input: either an added token ({@code id ≥ 0}) or text for the model ({@code id = -1}). */
    record Segment(String text, int id, boolean atStart) {}

    private final List<AddedToken> tokens = new ArrayList<>();
    private final Map<Integer, AddedToken> byId = new HashMap<>();
    private final Map<String, Integer> special = new LinkedHashMap<>();
    private final Trie raw = new Trie();
    private final Trie normalizedTrie = new Trie();

    AddedVocabulary(JsonNode addedTokens, Normalizer normalizer) {
        for (JsonNode t : addedTokens) {
            if (!t.path("content").isTextual() || !t.path("id").canConvertToInt() || t.path("id").asInt() < 0) {
                throw new BadInputException("tokenizer.json has an added token without a text content and a non-negative id: " + t);
            }
            AddedToken a = new AddedToken(t.get("content").asText(), t.get("id").asInt(), t.path("single_word").asBoolean(false),
                    t.path("lstrip").asBoolean(false), t.path("rstrip").asBoolean(false), t.path("normalized").asBoolean(!t.path("special").asBoolean(false)),
                    t.path("special").asBoolean(false));
            tokens.add(a);
            byId.put(a.id(), a);
            if (a.special()) special.put(a.content(), a.id());
            if (a.content().isEmpty()) continue;
            if (a.normalized()) {
                String n = normalizer.normalize(a.content());
                if (!n.isEmpty()) normalizedTrie.put(n, a);
            } else {
                raw.put(a.content(), a);
            }
        }
    }

    List<AddedToken> tokens() { return tokens; }

    Map<String, Integer> specialTokens() { return special; }

    boolean isSpecial(int id) {
        AddedToken a = byId.get(id);
        return a != null && a.special();
    }

    /** Added tokens and normalized text between them, in order; empty text segments are dropped. */
    List<Segment> split(String text, Normalizer normalizer) {
        List<Segment> out = new ArrayList<>();
        for (Segment s : find(text, raw, true)) {
            if (s.id() >= 0) {
                out.add(s);
                continue;
            }
            String norm = normalizer.normalize(s.text());
            for (Segment t : find(norm, normalizedTrie, s.atStart())) {
                if (t.id() >= 0 || !t.text().isEmpty()) out.add(t);
            }
        }
        return out;
    }

    private static List<Segment> find(String sentence, Trie trie, boolean atStart) {
        List<Segment> out = new ArrayList<>();
        if (trie.isEmpty() || sentence.isEmpty()) {
            if (!sentence.isEmpty()) out.add(new Segment(sentence, -1, atStart));
            return out;
        }
        int startOffset = 0;
        int i = 0;
        while (i < sentence.length()) {
            Trie.Match m = trie.longestAt(sentence, i);
            if (m == null) {
                i++;
                continue;
            }
            int start = i, stop = i + m.length();
            AddedToken tok = m.token();
            // The matcher moves on from the end of the raw match, whatever stripping does below.
            i = stop;
            if (tok.singleWord()) {
                boolean startSpace = start == 0 || !isWordChar(sentence.codePointBefore(start));
                boolean stopSpace = stop == sentence.length() || !isWordChar(sentence.codePointAt(stop));
                if (!startSpace || !stopSpace) continue;
            }
            if (tok.lstrip()) {
                int s = start;
                while (s > 0 && CharClasses.isWhitespace(sentence.codePointBefore(s))) s -= Character.charCount(sentence.codePointBefore(s));
                start = Math.max(s, startOffset);
            }
            if (tok.rstrip()) {
                while (stop < sentence.length() && CharClasses.isWhitespace(sentence.codePointAt(stop))) {
                    stop += Character.charCount(sentence.codePointAt(stop));
                }
            }
            if (startOffset < start) out.add(new Segment(sentence.substring(startOffset, start), -1, atStart && startOffset == 0));
            out.add(new Segment(sentence.substring(start, stop), tok.id(), atStart && start == 0));
            startOffset = stop;
        }
        if (startOffset < sentence.length()) out.add(new Segment(sentence.substring(startOffset), -1, atStart && startOffset == 0));
        return out;
    }

    private static boolean isWordChar(int c) {
        return Character.isLetterOrDigit(c) || c == '_';
    }

    /** Character trie over token contents for leftmost-longest matching. */
    private static final class Trie {
        record Match(AddedToken token, int length) {}

        private final Map<Character, Trie> next = new HashMap<>();
        private AddedToken token;
        /** Characters that start some token (root only): most text positions are rejected without a map lookup. */
        private final java.util.BitSet starts = new java.util.BitSet();

        boolean isEmpty() { return next.isEmpty(); }

        void put(String s, AddedToken t) {
            starts.set(s.charAt(0));
            Trie node = this;
            for (int i = 0; i < s.length(); i++) node = node.next.computeIfAbsent(s.charAt(i), c -> new Trie());
            // Two added tokens with the same text: the later one wins, as in a map built in file order.
            node.token = t;
        }

        Match longestAt(String s, int from) {
            if (!starts.get(s.charAt(from))) return null;
            Trie node = this;
            Match best = null;
            for (int i = from; i < s.length(); i++) {
                node = node.next.get(s.charAt(i));
                if (node == null) break;
                if (node.token != null) best = new Match(node.token, i - from + 1);
            }
            return best;
        }
    }
}
