package dev.tamp.runtime.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tamp.core.error.UnsupportedModelException;
import java.util.ArrayList;
import java.util.List;

/** Builds the pre-tokenizer a tokenizer.json's {@code pre_tokenizer} section describes. */
final class PreTokenizers {
    /** GPT-2's word split, as Hugging Face's ByteLevel pre-tokenizer applies it. */
    static final String GPT2_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
    private static final TextPattern GPT2 = TextPattern.regex(GPT2_PATTERN, "ByteLevel pre-tokenizer");
    /** Whitespace pre-tokenizer: runs of word characters, runs of other non-space characters. */
    private static final TextPattern WORDS = TextPattern.regex("\\w+|[^\\w\\s]+", "Whitespace pre-tokenizer");

    private PreTokenizers() {}

    static PreTokenizer fromJson(JsonNode n) {
        if (n == null || n.isNull() || n.isMissingNode()) return PreTokenizer.NONE;
        String type = n.path("type").asText("");
        return switch (type) {
            case "Sequence" -> {
                List<PreTokenizer> steps = new ArrayList<>();
                for (JsonNode c : n.path("pretokenizers")) steps.add(fromJson(c));
                yield (piece, out) -> {
                    List<PreTokenizer.Piece> cur = List.of(piece);
                    for (PreTokenizer step : steps) {
                        List<PreTokenizer.Piece> next = new ArrayList<>();
                        for (PreTokenizer.Piece p : cur) step.split(p, next);
                        cur = next;
                    }
                    out.addAll(cur);
                };
            }
            case "BertPreTokenizer" -> PreTokenizers::bert;
            case "WhitespaceSplit" -> (piece, out) ->
                    SplitBehavior.REMOVED.apply(piece, SplitBehavior.charMatches(piece.text(), CharClasses::isWhitespace), false, out);
            case "Whitespace" -> (piece, out) -> SplitBehavior.REMOVED.apply(piece, WORDS.matches(piece.text()), true, out);
            case "Punctuation" -> {
                SplitBehavior b = SplitBehavior.fromJson(n.path("behavior").asText("Isolated"));
                yield (piece, out) -> b.apply(piece, SplitBehavior.charMatches(piece.text(), CharClasses::isBertPunctuation), false, out);
            }
            case "Digits" -> {
                SplitBehavior b = n.path("individual_digits").asBoolean(false) ? SplitBehavior.ISOLATED : SplitBehavior.CONTIGUOUS;
                yield (piece, out) -> b.apply(piece, SplitBehavior.charMatches(piece.text(), CharClasses::isNumeric), false, out);
            }
            case "Split" -> {
                TextPattern pattern = TextPattern.fromJson(n.path("pattern"), "Split pre-tokenizer");
                SplitBehavior b = SplitBehavior.fromJson(n.path("behavior").asText("Isolated"));
                boolean invert = n.path("invert").asBoolean(false);
                yield (piece, out) -> b.apply(piece, pattern.matches(piece.text()), invert, out);
            }
            case "Metaspace" -> metaspace(n);
            case "ByteLevel" -> {
                boolean prefixSpace = n.path("add_prefix_space").asBoolean(true);
                boolean useRegex = n.path("use_regex").asBoolean(true);
                yield (piece, out) -> {
                    String text = prefixSpace && !piece.text().startsWith(" ") ? " " + piece.text() : piece.text();
                    PreTokenizer.Piece p = new PreTokenizer.Piece(text, piece.atStart());
                    List<PreTokenizer.Piece> words = new ArrayList<>();
                    if (useRegex) SplitBehavior.ISOLATED.apply(p, GPT2.matches(text), false, words);
                    else if (!text.isEmpty()) words.add(p);
                    for (PreTokenizer.Piece w : words) out.add(new PreTokenizer.Piece(ByteLevelAlphabet.encode(w.text()), w.atStart()));
                };
            }
            default -> throw new UnsupportedModelException("tokenizer.json pre-tokenizer '" + type + "' is not supported (supported: "
                    + "Sequence, BertPreTokenizer, Whitespace, WhitespaceSplit, Punctuation, Digits, Split, Metaspace, ByteLevel)");
        };
    }

    /**
     * BERT: whitespace removed, every punctuation character its own piece — one pass, since this is most of the
     * work on English text (same result as the two splits Hugging Face chains).
     */
    private static void bert(PreTokenizer.Piece piece, List<PreTokenizer.Piece> out) {
        String text = piece.text();
        int start = -1;
        for (int i = 0; i < text.length(); ) {
            int c = text.codePointAt(i);
            int n = Character.charCount(c);
            boolean space = CharClasses.isWhitespace(c);
            if (space || CharClasses.isBertPunctuation(c)) {
                if (start >= 0) out.add(new PreTokenizer.Piece(text.substring(start, i), piece.atStart() && start == 0));
                start = -1;
                if (!space) out.add(new PreTokenizer.Piece(text.substring(i, i + n), piece.atStart() && i == 0));
            } else if (start < 0) {
                start = i;
            }
            i += n;
        }
        if (start >= 0) out.add(new PreTokenizer.Piece(text.substring(start), piece.atStart() && start == 0));
    }

    /** Spaces → ▁, a ▁ prepended (always, on the text's first piece only, or never), then split before each ▁. */
    private static PreTokenizer metaspace(JsonNode n) {
        String replacement = n.path("replacement").asText("\u2581");
        if (replacement.codePointCount(0, replacement.length()) != 1) {
            throw new UnsupportedModelException("tokenizer.json Metaspace replacement '" + replacement + "' is not one character");
        }
        int rep = replacement.codePointAt(0);
        String scheme = n.has("prepend_scheme") ? n.path("prepend_scheme").asText()
                : n.path("add_prefix_space").asBoolean(true) ? "always" : "never";
        if (!scheme.equals("always") && !scheme.equals("first") && !scheme.equals("never")) {
            throw new UnsupportedModelException("tokenizer.json Metaspace prepend_scheme '" + scheme + "' is not supported");
        }
        boolean split = n.path("split").asBoolean(true);
        return (piece, out) -> {
            String text = piece.text().replace(" ", replacement);
            boolean prepend = switch (scheme) {
                case "always" -> true;
                case "first" -> piece.atStart();
                default -> false;
            };
            if (prepend && !text.startsWith(replacement)) text = replacement + text;
            PreTokenizer.Piece p = new PreTokenizer.Piece(text, piece.atStart());
            if (split) SplitBehavior.MERGED_WITH_NEXT.apply(p, SplitBehavior.charMatches(text, c -> c == rep), false, out);
            else if (!text.isEmpty()) out.add(p);
        };
    }
}
