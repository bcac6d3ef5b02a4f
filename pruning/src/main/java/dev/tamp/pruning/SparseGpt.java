package dev.tamp.pruning;

import dev.tamp.runtime.linalg.HessianInverse;

/**
 * SparseGPT N:M pruning of one linear layer (Frantar and Alistarh 2023; algorithms.md §4.4), in float64:
 * <ol>
 *   <li>H = XᵀX from calibration; dead inputs (H_jj = 0) get H_jj = 1 and their weight column zeroed; damping
 *       H += λ·mean(diag H)·I;</li>
 *   <li>U = the upper Cholesky factor of H⁻¹ (H⁻¹ = UᵀU), through cholesky(H) → inverse → cholesky;</li>
 *   <li>columns in blocks of B with lazy batch updates: at the first column of each group of M the mask of that group
 *       is chosen per row from the current, already updated weights by w²/U_dd² (keep the N largest); each column's
 *       pruned weights are removed and the error (w − q)/U_cc is spread over the block's remaining columns through
 *       row c of U; after the block, over all later columns at once.</li>
 * </ol>
 * Steps 1 and 2 are {@link HessianInverse}, shared with GPTQ. The loss is invariant to scaling H, so the Gram matrix
 * is used as accumulated (no 2/n). If a Cholesky step fails after damping, U falls back to I without retrying with
 * more damping, which degenerates to magnitude pruning (llm-compressor does the same), and the result says so.
 */
public final class SparseGpt {
    /**
     * @param weights     the pruned (and OBS-updated) weights [n][k]; exactly zero where {@code keep} is false
     * @param deadColumns inputs never active in calibration (their columns are zeroed)
     * @param fellBack    whether the inverse Hessian failed and U = I was used
     */
    public record Result(float[] weights, boolean[] keep, int deadColumns, boolean fellBack) {}

    private SparseGpt() {}

    /**
     * @param w    weights [n][k] (not modified)
     * @param gram XᵀX [k][k] in float64
     */
    public static Result prune(float[] w, int n, int k, double[] gram, NmPattern p, double dampening, int blockSize) {
        if (k % p.group() != 0) throw new IllegalArgumentException("K = " + k + " is not a multiple of M = " + p.group());
        if (blockSize % p.group() != 0) throw new IllegalArgumentException("block size " + blockSize + " is not a multiple of M = " + p.group());
        if (gram.length != (long) k * k) throw new IllegalArgumentException("Gram matrix is not " + k + "x" + k);
        double[] wd = new double[n * k];
        for (int i = 0; i < wd.length; i++) wd[i] = w[i];
        HessianInverse.Result hinv = HessianInverse.prepare(gram, k, dampening, dampening);
        for (int j : hinv.deadColumns()) for (int r = 0; r < n; r++) wd[r * k + j] = 0;
        double[] u = hinv.upper();
        boolean[] keep = new boolean[n * k];
        double[] scores = new double[p.group()];
        for (int i1 = 0; i1 < k; i1 += blockSize) {
            int i2 = Math.min(k, i1 + blockSize), width = i2 - i1;
            double[] err = new double[n * width];
            for (int c = i1; c < i2; c++) {
                if ((c - i1) % p.group() == 0) {
                    for (int r = 0; r < n; r++) {
                        for (int d = 0; d < p.group(); d++) {
                            double wv = wd[r * k + c + d], ud = u[(c + d) * k + c + d];
                            scores[d] = wv * wv / (ud * ud);
                        }
                        MaskSelection.keepTopInGroup(scores, 0, 1, p, keep, r * k + c);
                    }
                }
                double ucc = u[c * k + c];
                int urow = c * k;
                for (int r = 0; r < n; r++) {
                    int row = r * k;
                    if (keep[row + c]) continue;
                    double e = wd[row + c] / ucc;
                    wd[row + c] = 0;
                    err[r * width + (c - i1)] = e;
                    if (e == 0) continue;
                    for (int j = c + 1; j < i2; j++) wd[row + j] -= e * u[urow + j];
                }
            }
            if (i2 == k) continue;
            for (int r = 0; r < n; r++) {
                int row = r * k;
                for (int c = i1; c < i2; c++) {
                    double e = err[r * width + (c - i1)];
                    if (e == 0) continue;
                    int urow = c * k;
                    for (int j = i2; j < k; j++) wd[row + j] -= e * u[urow + j];
                }
            }
        }
        float[] out = new float[n * k];
        for (int i = 0; i < out.length; i++) out[i] = keep[i] ? (float) wd[i] : 0f;
        return new Result(out, keep, hinv.deadColumns().length, hinv.failed());
    }
}
