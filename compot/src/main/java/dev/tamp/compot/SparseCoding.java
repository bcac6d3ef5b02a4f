package dev.tamp.compot;

import java.util.Arrays;

/**
 * Hard thresholding H_s: keep the s largest-magnitude entries of each row, zero the rest. With an
 * orthonormal dictionary this is the exact minimiser of ‖W̃ − D S‖ over s-sparse codes
 * (algorithms.md §3.2), so sparse coding needs no pursuit. Rows here are output neurons (the codes
 * are held as Sᵀ, [N][k]). Ties break toward the lower atom index, so the result is deterministic.
 */
final class SparseCoding {
    private SparseCoding() {}

    /**
     * In place: every row of {@code c} ([rows][k], row-major) keeps its s largest |values|. Returns the
     * kept atom indices, exactly s per row in ascending order ([rows][s]); a kept value may be zero when
     * the row had fewer than s non-zeros.
     */
    static int[] keepTopPerRow(double[] c, int rows, int k, int s) {
        if (s < 1 || s > k) throw new IllegalArgumentException("sparsity " + s + " outside [1, " + k + "]");
        int[] kept = new int[rows * s];
        double[] mags = new double[k];
        for (int r = 0; r < rows; r++) {
            int o = r * k;
            for (int j = 0; j < k; j++) mags[j] = Math.abs(c[o + j]);
            Arrays.sort(mags);
            double threshold = mags[k - s];
            int above = 0;
            for (int j = 0; j < k; j++) if (Math.abs(c[o + j]) > threshold) above++;
            int tiesAllowed = s - above;
            int w = r * s;
            for (int j = 0; j < k; j++) {
                double a = Math.abs(c[o + j]);
                if (a > threshold || (a == threshold && tiesAllowed-- > 0)) kept[w++] = j;
                else c[o + j] = 0;
            }
        }
        return kept;
    }
}
