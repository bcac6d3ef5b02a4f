package dev.tamp.runtime.tokenizer;

import java.text.Normalizer.Form;

/**
 * Hugging Face's BertNormalizer, steps in its order: clean_text (drop NUL, U+FFFD and controls, whitespace →
 * space), handle_chinese_chars (spaces around CJK ideographs), strip_accents (NFD, drop non-spacing marks;
 * unset follows lowercase), lowercase (per code point).
 */
final class BertNormalizer implements Normalizer {
    private final boolean cleanText;
    private final boolean chineseChars;
    private final boolean stripAccents;
    private final boolean lowercase;

    BertNormalizer(boolean cleanText, boolean chineseChars, Boolean stripAccents, boolean lowercase) {
        this.cleanText = cleanText;
        this.chineseChars = chineseChars;
        this.stripAccents = stripAccents == null ? lowercase : stripAccents;
        this.lowercase = lowercase;
    }

    @Override
    public String normalize(String text) {
        StringBuilder sb = new StringBuilder(text.length() + 8);
        boolean ascii = true;
        for (int i = 0; i < text.length(); ) {
            int c = text.codePointAt(i);
            i += Character.charCount(c);
            if (c >= 0x80) ascii = false;
            if (cleanText) {
                if (c == 0 || c == 0xFFFD || CharClasses.isControl(c)) continue;
                if (CharClasses.isWhitespace(c)) {
                    sb.append(' ');
                    continue;
                }
            }
            if (chineseChars && CharClasses.isCjk(c)) {
                sb.append(' ').appendCodePoint(c).append(' ');
            } else {
                sb.appendCodePoint(c);
            }
        }
        String s = sb.toString();
        // ASCII text has no accents to strip: skip the NFD pass (most of the cost on English text).
        if (stripAccents && !ascii) s = stripAccents(s);
        return lowercase ? CharClasses.lowercase(s) : s;
    }

    private static String stripAccents(String s) {
        String nfd = java.text.Normalizer.normalize(s, Form.NFD);
        StringBuilder out = new StringBuilder(nfd.length());
        for (int i = 0; i < nfd.length(); ) {
            int c = nfd.codePointAt(i);
            i += Character.charCount(c);
            if (!CharClasses.isNonSpacingMark(c)) out.appendCodePoint(c);
        }
        return out.toString();
    }
}
