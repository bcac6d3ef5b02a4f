package dev.tamp.pruning;

/**
 * N:M masks from per-weight scores over [n][k] rows: in every group of M consecutive columns of a row, the N highest
 * scores are kept. Equal scores keep the lower column (algorithms.md §4.6; torch.topk's tie order is unspecified).
 */
public final class MaskSelection {
    private MaskSelection() {}

    /** Magnitude pruning: score |W_ij|. */
    public static boolean[] magnitude(float[] w, int n, int k, NmPattern p) {
        double[] s = new double[w.length];
        for (int i = 0; i < w.length; i++) s[i] = Math.abs(w[i]);
        return keepTop(s, n, k, p);
    }

    /** Wanda: score |W_ij|·‖X_j‖₂, with {@code sumSq[j]} = Σ_t X_tj² over the calibration tokens. */
    public static boolean[] wanda(float[] w, int n, int k, double[] sumSq, NmPattern p) {
        double[] norm = new double[k];
        for (int j = 0; j < k; j++) norm[j] = Math.sqrt(sumSq[j]);
        double[] s = new double[w.length];
        for (int r = 0; r < n; r++) for (int j = 0; j < k; j++) s[r * k + j] = Math.abs(w[r * k + j]) * norm[j];
        return keepTop(s, n, k, p);
    }

    /** Keeps the N highest scores of each group of M along every row; K must be a multiple of M. */
    public static boolean[] keepTop(double[] scores, int n, int k, NmPattern p) {
        if (k % p.group() != 0) throw new IllegalArgumentException("K = " + k + " is not a multiple of M = " + p.group());
        boolean[] keep = new boolean[scores.length];
        for (int start = 0; start < scores.length; start += p.group()) keepTopInGroup(scores, start, 1, p, keep, start);
        return keep;
    }

    /**
     * Marks in {@code keep} the N best of the M scores at scores[from + i·stride], i &lt; M, writing keep[keepFrom + i]; a
     * candidate beats another when its score is higher, or equal with a lower index.
     */
    static void keepTopInGroup(double[] scores, int from, int stride, NmPattern p, boolean[] keep, int keepFrom) {
        int m = p.group();
        for (int i = 0; i < m; i++) {
            double si = scores[from + i * stride];
            int better = 0;
            for (int j = 0; j < m && better < p.kept(); j++) {
                if (j == i) continue;
                double sj = scores[from + j * stride];
                if (sj > si || (sj == si && j < i)) better++;
            }
            keep[keepFrom + i] = better < p.kept();
        }
    }
}
