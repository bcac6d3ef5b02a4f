package dev.tamp.runtime.tokenizer;

/** The character classes Hugging Face tokenizers uses (Rust's char predicates and the BERT ones), per code point. */
final class CharClasses {
    private CharClasses() {}

    /** Rust's char::is_whitespace: the Unicode White_Space property. */
    static boolean isWhitespace(int c) {
        if (c < 0x80) return c == ' ' || (c >= 0x09 && c <= 0x0D);
        return c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029
                || c == 0x202F || c == 0x205F || c == 0x3000;
    }

    /**
     * BERT's control test: categories Cc, Cf, Co and Cs except tab, newline and carriage return. Unassigned code
     * points (Cn) are not controls in Hugging Face's tables, so they stay (and usually become [UNK]).
     */
    static boolean isControl(int c) {
        if (c == '\t' || c == '\n' || c == '\r') return false;
        if (c >= 0x20 && c < 0x7F) return false;
        int t = Character.getType(c);
        return t == Character.CONTROL || t == Character.FORMAT || t == Character.PRIVATE_USE || t == Character.SURROGATE;
    }

    /** BERT's CJK ideograph blocks (the ones handle_chinese_chars surrounds with spaces). */
    static boolean isCjk(int c) {
        return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF)
                || (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B820 && c <= 0x2CEAF)
                || (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
    }

    /** BERT punctuation: all ASCII symbols/punctuation, plus Unicode categories Pc, Pd, Ps, Pe, Pi, Pf, Po. */
    static boolean isBertPunctuation(int c) {
        if (c < 0x80) return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126);
        return isPunctuation(c);
    }

    /** Unicode punctuation categories (P*). */
    static boolean isPunctuation(int c) {
        int t = Character.getType(c);
        return t == Character.CONNECTOR_PUNCTUATION || t == Character.DASH_PUNCTUATION || t == Character.START_PUNCTUATION
                || t == Character.END_PUNCTUATION || t == Character.INITIAL_QUOTE_PUNCTUATION
                || t == Character.FINAL_QUOTE_PUNCTUATION || t == Character.OTHER_PUNCTUATION;
    }

    /** Rust's char::is_numeric: categories Nd, Nl, No. */
    static boolean isNumeric(int c) {
        int t = Character.getType(c);
        return t == Character.DECIMAL_DIGIT_NUMBER || t == Character.LETTER_NUMBER || t == Character.OTHER_NUMBER;
    }

    static boolean isNonSpacingMark(int c) {
        return c >= 0x300 && Character.getType(c) == Character.NON_SPACING_MARK;
    }

    /**
     * Lowercases code point by code point like Rust's char::to_lowercase: full mappings (İ → i̇) but no
     * context, so a word-final Σ stays σ (String.toLowerCase would give ς).
     */
    static void appendLowercase(StringBuilder out, int c) {
        if (c < 0x80) {
            out.append((char) (c >= 'A' && c <= 'Z' ? c + 32 : c));
        } else if (c == 0x130) {
            out.append("i\u0307");
        } else {
            int lower = Character.toLowerCase(c);
            out.appendCodePoint(lower);
        }
    }

    static String lowercase(String s) {
        StringBuilder out = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); ) {
            int c = s.codePointAt(i);
            appendLowercase(out, c);
            i += Character.charCount(c);
        }
        return out.toString();
    }
}
