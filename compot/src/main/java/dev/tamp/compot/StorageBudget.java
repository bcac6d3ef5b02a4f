package dev.tamp.compot;

/**
 * Bytes each factorised form stores, with the dtypes actually written: float32 dictionary, factors and
 * code values, and a k-bit mask per output row naming its atoms (the paper's Eq. 11 counting). The dense reference is a float32 [N][K]
 * matrix. Also the inverse: the largest (k, s) or rank that fits a byte budget.
 */
public final class StorageBudget {
    private StorageBudget() {}

    /** Atoms per kept coefficient: k = 2s, the paper's best k/s ratio (algorithms.md §3.3). */
    public static final int ATOMS_PER_NONZERO = 2;

    static final int VALUE_BYTES = 4;

    public static long denseBytes(int n, int k) { return (long) VALUE_BYTES * n * k; }

    public static int maskBytesPerRow(int atoms) { return (atoms + 7) / 8; }

    /** dictionary [atoms][K] + code values [N][s] + code mask [N][⌈atoms/8⌉]. */
    public static long dictionaryBytes(int n, int k, int atoms, int sparsity) {
        return (long) VALUE_BYTES * atoms * k + (long) VALUE_BYTES * n * sparsity + (long) n * maskBytesPerRow(atoms);
    }

    /** left [N][r] + right [r][K]. */
    public static long lowRankBytes(int n, int k, int rank) { return (long) VALUE_BYTES * rank * (n + k); }

    /** A dictionary shape: k atoms, s non-zeros per output row. */
    public record DictionaryShape(int atoms, int sparsity) {}

    /**
     * The largest s (with k = 2s, or k = K once 2s would exceed the input width) whose storage fits
     * {@code budget} bytes for an [N][K] weight. Never below s = 1 (then the layer overshoots; callers
     * see it in the byte count).
     */
    public static DictionaryShape dictionaryFor(long budget, int n, int k) {
        // One unit of s costs 2 atoms of dictionary, one value per row and 2 mask bits per row (rounded up below).
        long perUnit = (long) ATOMS_PER_NONZERO * VALUE_BYTES * k + (long) VALUE_BYTES * n + (n + 3) / 4;
        int s = (int) Math.min(Integer.MAX_VALUE, Math.max(0, budget) / perUnit);
        while (s > 0 && dictionaryBytes(n, k, Math.min(k, ATOMS_PER_NONZERO * s), s) > budget) s--;
        if ((long) ATOMS_PER_NONZERO * s <= k) {
            return s < 1 ? new DictionaryShape(Math.min(ATOMS_PER_NONZERO, k), 1) : new DictionaryShape(ATOMS_PER_NONZERO * s, s);
        }
        // A complete dictionary (k = K atoms, at most K by orthogonality); spend the rest on codes.
        long left = budget - (long) VALUE_BYTES * k * k - (long) n * maskBytesPerRow(k);
        int sFull = (int) Math.max(1, Math.min(k, left / ((long) VALUE_BYTES * n)));
        return new DictionaryShape(k, sFull);
    }

    /** The largest rank whose factors fit {@code budget}, in [1, min(N, K)]. */
    public static int rankFor(long budget, int n, int k) {
        long r = budget / ((long) VALUE_BYTES * (n + k));
        return (int) Math.max(1, Math.min(Math.min(n, k), r));
    }
}
