package dev.tamp.runtime.tokenizer;

import dev.tamp.core.error.UnsupportedModelException;
import java.util.List;
import java.util.function.IntPredicate;

/**
 * What a split does with the delimiters it finds (Hugging Face's SplitDelimiterBehavior): drop them, keep each
 * as its own piece, glue it to the previous or the next piece, or keep runs of them together.
 */
enum SplitBehavior {
    REMOVED, ISOLATED, MERGED_WITH_PREVIOUS, MERGED_WITH_NEXT, CONTIGUOUS;

    static SplitBehavior fromJson(String name) {
        return switch (name) {
            case "Removed" -> REMOVED;
            case "Isolated" -> ISOLATED;
            case "MergedWithPrevious" -> MERGED_WITH_PREVIOUS;
            case "MergedWithNext" -> MERGED_WITH_NEXT;
            case "Contiguous" -> CONTIGUOUS;
            default -> throw new UnsupportedModelException("tokenizer.json split behavior '" + name + "' is not supported");
        };
    }

    /** Every code point matching {@code delimiter} is one match. */
    static IntList charMatches(String text, IntPredicate delimiter) {
        IntList m = new IntList();
        for (int i = 0; i < text.length(); ) {
            int c = text.codePointAt(i);
            int n = Character.charCount(c);
            if (delimiter.test(c)) {
                m.add(i);
                m.add(i + n);
            }
            i += n;
        }
        return m;
    }

    /**
     * Cuts {@code piece} at the match intervals (pairs of start, end in {@code matches}); {@code invert} swaps
     * which segments count as delimiters. Appends the non-empty results.
     */
    void apply(PreTokenizer.Piece piece, IntList matches, boolean invert, List<PreTokenizer.Piece> out) {
        String text = piece.text();
        // Segments covering the text: start, end, isMatch.
        IntList seg = new IntList(matches.size() * 2 + 3);
        int prev = 0;
        for (int k = 0; k < matches.size(); k += 2) {
            int s = matches.get(k), e = matches.get(k + 1);
            if (prev != s) addSeg(seg, prev, s, invert);
            addSeg(seg, s, e, !invert);
            prev = e;
        }
        if (prev != text.length()) addSeg(seg, prev, text.length(), invert);
        int n = seg.size() / 3;
        int[] start = new int[n], end = new int[n];
        boolean[] remove = new boolean[n];
        int count = 0;
        switch (this) {
            case ISOLATED, REMOVED -> {
                for (int k = 0; k < n; k++) {
                    start[count] = seg.get(3 * k);
                    end[count] = seg.get(3 * k + 1);
                    remove[count++] = this == REMOVED && seg.get(3 * k + 2) == 1;
                }
            }
            case CONTIGUOUS -> {
                boolean previousMatch = false;
                for (int k = 0; k < n; k++) {
                    boolean isMatch = seg.get(3 * k + 2) == 1;
                    if (isMatch == previousMatch && count > 0) {
                        end[count - 1] = seg.get(3 * k + 1);
                    } else {
                        start[count] = seg.get(3 * k);
                        end[count++] = seg.get(3 * k + 1);
                    }
                    previousMatch = isMatch;
                }
            }
            case MERGED_WITH_PREVIOUS -> {
                boolean previousMatch = false;
                for (int k = 0; k < n; k++) {
                    boolean isMatch = seg.get(3 * k + 2) == 1;
                    if (isMatch && !previousMatch && count > 0) {
                        end[count - 1] = seg.get(3 * k + 1);
                    } else {
                        start[count] = seg.get(3 * k);
                        end[count++] = seg.get(3 * k + 1);
                    }
                    previousMatch = isMatch;
                }
            }
            case MERGED_WITH_NEXT -> {
                // Walk backwards: a delimiter joins the piece after it.
                boolean previousMatch = false;
                int[] rs = new int[n], re = new int[n];
                int rc = 0;
                for (int k = n - 1; k >= 0; k--) {
                    boolean isMatch = seg.get(3 * k + 2) == 1;
                    if (isMatch && !previousMatch && rc > 0) {
                        rs[rc - 1] = seg.get(3 * k);
                    } else {
                        rs[rc] = seg.get(3 * k);
                        re[rc++] = seg.get(3 * k + 1);
                    }
                    previousMatch = isMatch;
                }
                for (int k = rc - 1; k >= 0; k--) {
                    start[count] = rs[k];
                    end[count++] = re[k];
                }
            }
        }
        for (int k = 0; k < count; k++) {
            if (remove[k] || end[k] == start[k]) continue;
            out.add(new PreTokenizer.Piece(text.substring(start[k], end[k]), piece.atStart() && start[k] == 0));
        }
    }

    private static void addSeg(IntList seg, int s, int e, boolean isMatch) {
        seg.add(s);
        seg.add(e);
        seg.add(isMatch ? 1 : 0);
    }
}
