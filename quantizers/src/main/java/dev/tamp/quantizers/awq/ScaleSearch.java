package dev.tamp.quantizers.awq;

import dev.tamp.core.error.BadInputException;
import dev.tamp.formats.codec.IntGrid;
import dev.tamp.quantizers.FakeQuant;
import dev.tamp.runtime.linalg.QuadraticForm;
import java.util.List;

/**
 * AWQ's activation-aware scale search for one group of linear layers sharing an input X (algorithms.md §2.1):
 * for r = 0, 1/n, …, (n−1)/n, s = max(mean|X|^r, 1e−4) normalised so that max(s)·min(s) = 1, and the loss
 * Σ_i ‖X·diag(1/s)·Q(W_i·diag(s))ᵀ − X·W_iᵀ‖² (the paper's Eq. 4, over the group's outputs) is measured
 * through the Gram matrix ({@link QuadraticForm}). r = 0 is s ≡ 1, plain RTN, so the chosen scales can never
 * lose to RTN on this objective; ties keep the smaller r.
 */
public final class ScaleSearch {
    /**
     * @param scales the chosen s per input channel
     * @param ratio  the chosen r
     * @param losses the loss at every grid point, mean squared error per output element (losses[0] = RTN)
     * @param rtn    per member, its summed squared output error at r = 0 (plain RTN; what a report compares against)
     */
    public record Result(float[] scales, double ratio, double[] losses, double[] rtn) {
        public double best() {
            double b = Double.POSITIVE_INFINITY;
            for (double l : losses) b = Math.min(b, l);
            return b;
        }
    }

    /** One member of the group: its weight as [n][k] rows (output channels × input channels). */
    public record Member(float[] rows, int n) {}

    private ScaleSearch() {}

    /**
     * @param meanAbs mean |x| per input channel over the calibration tokens
     * @param gram    the output error's form of XᵀX
     * @param tokens  the number of calibration tokens behind {@code gram}
     */
    public static Result search(List<Member> members, int k, float[] meanAbs, QuadraticForm gram, long tokens,
                                int bits, boolean symmetric, int group, int grid) {
        long outputs = 0;
        for (Member m : members) outputs += (long) m.n() * Math.max(1, tokens);
        double[] losses = new double[grid];
        double[] rtn = new double[members.size()];
        IntGrid ints = new IntGrid(bits, symmetric);
        int best = 0;
        for (int i = 0; i < grid; i++) {
            float[] s = scales(meanAbs, (double) i / grid);
            double loss = 0;
            for (int mi = 0; mi < members.size(); mi++) {
                Member m = members.get(mi);
                double e = gram.sum(errorRows(m, k, s, ints, group), m.n());
                if (i == 0) rtn[mi] = e;
                loss += e;
            }
            losses[i] = loss / outputs;
            if (losses[i] < losses[best]) best = i;
        }
        return new Result(scales(meanAbs, (double) best / grid), (double) best / grid, losses, rtn);
    }

    /** s = max(mean|x|^r, 1e−4), normalised by sqrt(max·min); non-finite entries become 1. */
    public static float[] scales(float[] meanAbs, double r) {
        int k = meanAbs.length;
        double[] s = new double[k];
        double lo = Double.POSITIVE_INFINITY, hi = 0;
        for (int j = 0; j < k; j++) {
            s[j] = Math.max(Math.pow(meanAbs[j], r), 1e-4);
            lo = Math.min(lo, s[j]);
            hi = Math.max(hi, s[j]);
        }
        double norm = Math.sqrt(hi * lo);
        float[] out = new float[k];
        for (int j = 0; j < k; j++) {
            double v = s[j] / norm;
            out[j] = Double.isFinite(v) && v > 0 ? (float) v : 1f;
        }
        return out;
    }

    /** Q(W·diag(s))·diag(1/s) − W: the effective weight error of member m under scales s. */
    static float[] error(Member m, int k, float[] s, int bits, boolean symmetric, int group) {
        float[] out = new float[m.rows().length];
        errorRows(m, k, s, new IntGrid(bits, symmetric), group).fill(0, m.n(), out);
        return out;
    }

    /** {@link #error} row by row, for the form to take panel by panel (a candidate never exists whole). */
    private static QuadraticForm.Rows errorRows(Member m, int k, float[] s, IntGrid ints, int group) {
        float[] w = m.rows();
        return (from, to, out) -> {
            for (int r = from; r < to; r++) {
                int o = (r - from) * k, base = r * k;
                for (int j = 0; j < k; j++) out[o + j] = w[base + j] * s[j];
                try {
                    FakeQuant.row(out, o, k, ints, group, out, o);
                } catch (BadInputException e) {
                    throw new BadInputException("row " + r + ": " + e.getMessage(), e);
                }
                for (int j = 0; j < k; j++) out[o + j] = out[o + j] / s[j] - w[base + j];
            }
        };
    }

    static float[] scaleColumns(float[] rows, int n, int k, float[] s) {
        float[] out = new float[rows.length];
        for (int r = 0; r < n; r++) for (int j = 0; j < k; j++) out[r * k + j] = rows[r * k + j] * s[j];
        return out;
    }
}
