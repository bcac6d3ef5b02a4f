package dev.tamp.quantizers.awq;

import dev.tamp.quantizers.FakeQuant;

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

    public static Result search(float[] w, int n, int k, float[] gram, int bits, boolean symmetric, int groupSize, int grid) {
        int g = groupSize <= 0 || groupSize > k ? k : groupSize;
        int groups = (k + g - 1) / g;
        float[] absMax = new float[n * groups];
        for (int r = 0; r < n; r++) {
            for (int j = 0; j < k; j++) {
                int c = r * groups + j / g;
                absMax[c] = Math.max(absMax[c], Math.abs(w[r * k + j]));
            }
        }
        double[] bestErr = new double[n * groups];
        int[] bestStep = new int[n * groups];
        double before = 0;
        int steps = Math.max(1, (int) (MAX_SHRINK * grid));
        for (int step = 0; step < steps; step++) {
            float[] c = clamp(w, n, k, g, groups, absMax, step, grid, null);
            float[] delta = OutputError.difference(FakeQuant.apply(c, n, k, bits, symmetric, g), w);
            for (int gi = 0; gi < groups; gi++) {
                int from = gi * g, len = Math.min(k, from + g) - from;
                float[] dg = new float[n * len], gg = new float[len * len];
                for (int r = 0; r < n; r++) System.arraycopy(delta, r * k + from, dg, r * len, len);
                for (int a = 0; a < len; a++) System.arraycopy(gram, (from + a) * k + from, gg, a * len, len);
                double[] err = OutputError.perRow(dg, n, len, gg);
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
    }

    /** w clamped per (row, group) to ±absMax·(1 − step/grid), with the step per cell when {@code perCell} is given. */
    private static float[] clamp(float[] w, int n, int k, int g, int groups, float[] absMax, int step, int grid, int[] perCell) {
        float[] out = new float[w.length];
        for (int r = 0; r < n; r++) {
            for (int j = 0; j < k; j++) {
                int cell = r * groups + j / g;
                int st = perCell == null ? step : perCell[cell];
                float mv = (float) (absMax[cell] * (1.0 - (double) st / grid));
                float v = w[r * k + j];
                out[r * k + j] = st == 0 ? v : Math.max(-mv, Math.min(mv, v));
            }
        }
        return out;
    }
}
