package dev.tamp.runtime.data;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Splits documents into sentences (encoder calibration/evaluation samples) and into fixed-size text
 * windows (decoder samples). Line breaks inside a paragraph are joined; blank lines end paragraphs.
 */
public final class Sentences {
    // A sentence ends at . ! or ? (optionally followed by closing quotes/brackets) before whitespace.
    private static final Pattern END = Pattern.compile("[.!?][\"'”’)\\]]*(?=\\s+|$)");

    private Sentences() {}

    /** Sentences with between minWords and maxWords words, in document order. */
    public static List<String> split(String text, int minWords, int maxWords) {
        List<String> out = new ArrayList<>();
        for (String para : text.split("\\n\\s*\\n")) {
            String p = para.replaceAll("\\s+", " ").trim();
            if (p.isEmpty()) continue;
            Matcher m = END.matcher(p);
            int start = 0;
            while (m.find()) {
                add(out, p.substring(start, m.end()), minWords, maxWords);
                start = m.end();
            }
            if (start < p.length()) add(out, p.substring(start), minWords, maxWords);
        }
        return out;
    }

    private static void add(List<String> out, String s, int minWords, int maxWords) {
        String t = s.trim();
        if (t.isEmpty()) return;
        int words = t.split(" ").length;
        if (words >= minWords && words <= maxWords) out.add(t);
    }

    /** Consecutive windows of about {@code chars} characters, cut at word boundaries. */
    public static List<String> windows(String text, int chars) {
        String t = text.replaceAll("\\s+", " ").trim();
        List<String> out = new ArrayList<>();
        int i = 0;
        while (i < t.length()) {
            int end = Math.min(t.length(), i + chars);
            if (end < t.length()) {
                int space = t.lastIndexOf(' ', end);
                if (space > i) end = space;
            }
            String w = t.substring(i, end).trim();
            if (!w.isEmpty()) out.add(w);
            i = end + 1;
        }
        return out;
    }
}
