package dev.tamp.runtime.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tamp.core.error.BadInputException;
import dev.tamp.core.error.UnsupportedModelException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * The {@code {"String": ...}} or {@code {"Regex": ...}} pattern of Replace and Split. Regexes (Oniguruma syntax
 * in Hugging Face) run on java.util.regex with Unicode character classes, which agree for the patterns
 * tokenizers ship (\s, \p{L}, \p{N}, lookahead, case-insensitive groups).
 */
final class TextPattern {
    private final String literal;
    private final Pattern regex;

    private TextPattern(String literal, Pattern regex) {
        this.literal = literal;
        this.regex = regex;
    }

    static TextPattern fromJson(JsonNode p, String where) {
        if (p.has("String")) return new TextPattern(p.get("String").asText(), null);
        if (p.has("Regex")) return regex(p.get("Regex").asText(), where);
        throw new UnsupportedModelException("tokenizer.json " + where + " has a pattern that is neither String nor Regex: " + p);
    }

    static TextPattern regex(String source, String where) {
        try {
            return new TextPattern(null, Pattern.compile(source, Pattern.UNICODE_CHARACTER_CLASS));
        } catch (PatternSyntaxException e) {
            throw new BadInputException("tokenizer.json " + where + " has a regex Java cannot compile: " + e.getDescription());
        }
    }

    String replaceAll(String text, String replacement) {
        if (regex == null) return literal.isEmpty() ? text : text.replace(literal, replacement);
        return regex.matcher(text).replaceAll(Matcher.quoteReplacement(replacement));
    }

    /** Match intervals [start, end) in order, non-overlapping; empty matches are dropped. */
    IntList matches(String text) {
        IntList out = new IntList();
        if (regex == null) {
            if (literal.isEmpty()) return out;
            for (int i = text.indexOf(literal); i >= 0; i = text.indexOf(literal, i + literal.length())) {
                out.add(i);
                out.add(i + literal.length());
            }
            return out;
        }
        Matcher m = regex.matcher(text);
        while (m.find()) {
            if (m.end() > m.start()) {
                out.add(m.start());
                out.add(m.end());
            }
        }
        return out;
    }
}
