package dev.tamp.pruning;

import dev.tamp.core.error.BadInputException;

/**
 * An N:M semi-structured sparsity pattern: in every group of {@code group} consecutive weights along K (the input
 * dimension), {@code kept} are kept and the rest are zero. N means kept, the NVIDIA convention (algorithms.md §4.1:
 * the SparseGPT and Wanda sources count the pruned ones instead; 2:4 and 4:8 read the same either way).
 */
public record NmPattern(int kept, int group) {
    public static final NmPattern TWO_FOUR = new NmPattern(2, 4);

    public NmPattern {
        if (group < 2 || group > 64 || kept < 1 || kept >= group) {
            throw new IllegalArgumentException("N:M needs 1 ≤ N < M ≤ 64, not " + kept + ":" + group);
        }
    }

    /** Parses "2:4". @throws BadInputException for anything else than N:M with 1 ≤ N &lt; M ≤ 64 */
    public static NmPattern parse(String s) {
        String[] parts = s.trim().split(":", -1);
        try {
            if (parts.length != 2) throw new NumberFormatException();
            return new NmPattern(Integer.parseInt(parts[0].trim()), Integer.parseInt(parts[1].trim()));
        } catch (NumberFormatException e) {
            throw new BadInputException("--pattern must be N:M (kept of every M along the input dimension, e.g. 2:4), not '" + s + "'");
        } catch (IllegalArgumentException e) {
            throw new BadInputException("--pattern " + s + ": " + e.getMessage());
        }
    }

    public int pruned() { return group - kept; }

    /** Whether every group of 4 along K keeps at most 2, so the result is storable as a 2:4 weight. */
    public boolean fits24() {
        return (group == 4 && kept <= 2) || (group == 2 && kept == 1);
    }

    @Override public String toString() { return kept + ":" + group; }
}
