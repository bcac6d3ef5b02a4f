package dev.tamp.quantizers.awq;

import dev.tamp.core.error.BadInputException;
import dev.tamp.formats.codec.IntGrid;
import dev.tamp.quantizers.FakeQuant;
import dev.tamp.runtime.kernels.Parallel;
import dev.tamp.runtime.linalg.Linalg;
import dev.tamp.runtime.linalg.QuadraticForm;

/**
 * AWQ's weight clipping search (llm-awq auto_clip, algorithms.md §2.1), run after the scales are applied: for
 * every output row and quantization group, the clip value mv = max|w_group|·(1 − i/n) for i = 0 … ⌊0.5·n⌋−1
 * that minimises the group's partial-output error Σ_tokens (Σ_{c∈group} x_c·(q_c − w_c))², i.e. δ_g·G_g·δ_gᵀ
 * with G_g the group's block of the (scaled) input Gram matrix. i = 0 is no clipping, so no group gets worse.
 */
public final class ClipSearch {
    /**
     * @param clipped      the weights clamped to the chosen ±mv per (row, group), [n][k]
     * @param meanShrink   mean of the chosen shrink fractions i/n over all (row, group) cells
     * @param errorBefore  Σ over cells of the unclipped partial-output error
     * @param errorAfter   Σ over cells of the chosen one (≤ errorBefore)
     */
    public record Result(float[] clipped, double meanShrink, double errorBefore, double errorAfter) {}

    static final double MAX_SHRINK = 0.5;

    private ClipSearch() {}

    /**
     * @param w    the weights already scaled, W·diag(s), [n][k]
     * @param gram XᵀX [k][k] in float64, of the unscaled inputs
     * @param s    the scales applied to w, whose inputs are X·diag(1/s) (null: none)
     */
    public static Result search(float[] w, int n, int k, double[] gram, float[] s, int bits, boolean symmetric, int groupSize, int grid) {
        int g = groupSize <= 0 || groupSize > k ? k : groupSize;
        int groups = (k + g - 1) / g;
        float[] absMax = new float[n * groups];
        for (int r = 0; r < n; r++) {
            for (int j = 0; j < k; j++) {
                int c = r * groups + j / g;
                absMax[c] = Math.max(absMax[c], Math.abs(w[r * k + j]));
            }
        }
        QuadraticForm[] blocks = new QuadraticForm[groups];
        try {
            for (int gi = 0; gi < groups; gi++) {
                int from = gi * g, len = Math.min(k, from + g) - from;
                blocks[gi] = QuadraticForm.of(gram, k, from, len, s, Linalg.choose(len));
            }
            double[] bestErr = new double[n * groups];
            int[] bestStep = new int[n * groups];
            double before = 0;
            int steps = Math.max(1, (int) (MAX_SHRINK * grid));
            IntGrid ints = new IntGrid(bits, symmetric);
            float[] delta = new float[w.length];
            for (int step = 0; step < steps; step++) {
                int st = step;
                // Q(clamp(w)) − w, row by row: each row clamped, quantized and differenced in place
                Parallel.shared().forRange(n, 16, (r0, r1) -> {
                    for (int r = r0; r < r1; r++) {
                        clampRow(w, r, k, g, groups, absMax, st, grid, null, delta);
                        try {
                            FakeQuant.row(delta, r * k, k, ints, g, delta, r * k);
                        } catch (BadInputException e) {
                            throw new BadInputException("row " + r + ": " + e.getMessage(), e);
                        }
                        for (int j = r * k, e = j + k; j < e; j++) delta[j] -= w[j];
                    }
                });
                for (int gi = 0; gi < groups; gi++) {
                    int from = gi * g, len = blocks[gi].dim();
                    double[] err = blocks[gi].perRow((r0, r1, out) -> {
                        for (int r = r0; r < r1; r++) System.arraycopy(delta, r * k + from, out, (r - r0) * len, len);
                    }, n);
                    for (int r = 0; r < n; r++) {
                        int cell = r * groups + gi;
                        if (step == 0) {
                            bestErr[cell] = err[r];
                            before += err[r];
                        } else if (err[r] < bestErr[cell]) {
                            bestErr[cell] = err[r];
                            bestStep[cell] = step;
                        }
                    }
                }
            }
            double after = 0, shrink = 0;
            for (int c = 0; c < bestErr.length; c++) {
                after += bestErr[c];
                shrink += (double) bestStep[c] / grid;
            }
            return new Result(clamp(w, n, k, g, groups, absMax, 0, grid, bestStep), shrink / bestErr.length, before, after);
        } finally {
            for (QuadraticForm b : blocks) if (b != null) b.close();
        }
    }

    /** w clamped per (row, group) to ±absMax·(1 − step/grid), with the step per cell when {@code perCell} is given. */
    private static float[] clamp(float[] w, int n, int k, int g, int groups, float[] absMax, int step, int grid, int[] perCell) {
        float[] out = new float[w.length];
        for (int r = 0; r < n; r++) clampRow(w, r, k, g, groups, absMax, step, grid, perCell, out);
        return out;
    }

    /** Row r of {@link #clamp}, into out's row r. */
    private static void clampRow(float[] w, int r, int k, int g, int groups, float[] absMax, int step, int grid, int[] perCell, float[] out) {
        for (int from = 0, cell = r * groups; from < k; from += g, cell++) {
            int st = perCell == null ? step : perCell[cell], to = Math.min(k, from + g);
            float mv = (float) (absMax[cell] * (1.0 - (double) st / grid));
            for (int j = r * k + from, e = r * k + to; j < e; j++) out[j] = st == 0 ? w[j] : Math.max(-mv, Math.min(mv, w[j]));
        }
    }
}
