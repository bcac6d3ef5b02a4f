package dev.tamp.runtime.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tamp.core.error.UnsupportedModelException;
import java.text.Normalizer.Form;
import java.util.ArrayList;
import java.util.List;

/** Builds the normalizer a tokenizer.json's {@code normalizer} section describes. */
final class Normalizers {
    private Normalizers() {}

    static Normalizer fromJson(JsonNode n) {
        if (n == null || n.isNull() || n.isMissingNode()) return Normalizer.IDENTITY;
        String type = n.path("type").asText("");
        return switch (type) {
            case "Sequence" -> {
                List<Normalizer> steps = new ArrayList<>();
                for (JsonNode c : n.path("normalizers")) steps.add(fromJson(c));
                yield text -> {
                    for (Normalizer s : steps) text = s.normalize(text);
                    return text;
                };
            }
            case "BertNormalizer" -> {
                JsonNode sa = n.path("strip_accents");
                yield new BertNormalizer(n.path("clean_text").asBoolean(true), n.path("handle_chinese_chars").asBoolean(true),
                        sa.isBoolean() ? sa.asBoolean() : null, n.path("lowercase").asBoolean(true));
            }
            case "Prepend" -> {
                String p = n.path("prepend").asText();
                yield text -> text.isEmpty() ? text : p + text;
            }
            case "Replace" -> {
                TextPattern pattern = TextPattern.fromJson(n.path("pattern"), "Replace normalizer");
                String content = n.path("content").asText();
                yield text -> pattern.replaceAll(text, content);
            }
            case "NFC" -> text -> java.text.Normalizer.normalize(text, Form.NFC);
            case "NFD" -> text -> java.text.Normalizer.normalize(text, Form.NFD);
            case "NFKC" -> text -> java.text.Normalizer.normalize(text, Form.NFKC);
            case "NFKD" -> text -> java.text.Normalizer.normalize(text, Form.NFKD);
            case "Lowercase" -> CharClasses::lowercase;
            case "StripAccents" -> text -> {
                StringBuilder out = new StringBuilder(text.length());
                text.codePoints().filter(c -> !CharClasses.isNonSpacingMark(c)).forEach(out::appendCodePoint);
                return out.toString();
            };
            case "Strip" -> {
                boolean left = n.path("strip_left").asBoolean(false), right = n.path("strip_right").asBoolean(false);
                yield text -> strip(text, left, right);
            }
            default -> throw new UnsupportedModelException("tokenizer.json normalizer '" + type + "' is not supported"
                    + " (supported: Sequence, BertNormalizer, Prepend, Replace, NFC, NFD, NFKC, NFKD, Lowercase, StripAccents, Strip)");
        };
    }

    static String strip(String text, boolean left, boolean right) {
        int start = 0, end = text.length();
        while (left && start < end && CharClasses.isWhitespace(text.codePointAt(start))) start += Character.charCount(text.codePointAt(start));
        while (right && end > start && CharClasses.isWhitespace(text.codePointBefore(end))) end -= Character.charCount(text.codePointBefore(end));
        return text.substring(start, end);
    }
}
