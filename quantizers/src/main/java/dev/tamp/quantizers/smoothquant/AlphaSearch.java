package dev.tamp.quantizers.smoothquant;

import dev.tamp.core.error.BadInputException;
import dev.tamp.quantizers.FakeQuant;
import dev.tamp.runtime.calib.ChannelStats;
import dev.tamp.runtime.kernels.ActivationQuantization;
import dev.tamp.runtime.kernels.Parallel;
import dev.tamp.runtime.kernels.VectorGemm;
import java.util.List;

/**
 * {@code --alpha auto} (algorithms.md §1.5 [OURS]): per group, α ∈ {0.30, 0.35, …, 0.95} and "no smoothing" are
 * each scored by the squared error of the group's W8A8 outputs — per-token INT8 activations of X·diag(1/s) times
 * per-channel INT8 weights W·diag(s) — against the FP32 outputs X·Wᵀ, on calibration tokens kept by the
 * observer (per-token rounding is not quadratic in X, so unlike AWQ this needs the tokens, not XᵀX). The
 * arg-min wins; "no smoothing" is kept when it wins (it can, with per-token activations).
 */
public final class AlphaSearch {
    /** Calibration tokens kept per linear input for the search. */
    public static final int SAMPLE_ROWS = 512;

    static final double NOT_SMOOTHED = -1;

    private AlphaSearch() {}

    /** The α with the lowest W8A8 output error, or {@link #NOT_SMOOTHED}. */
    public static double choose(ChannelStats x, List<float[]> weightRows, int[] outFeatures) {
        if (x.sampled == 0) {
            throw new BadInputException("--alpha auto needs calibration tokens: calibrate here (not from --stats)");
        }
        double best = NOT_SMOOTHED, bestLoss = loss(x, weightRows, outFeatures, null);
        double[] wmax = SmoothQuant.weightAbsMax(weightRows, outFeatures, x.k);
        for (int i = 0; i < 14; i++) {
            double alpha = 0.30 + 0.05 * i;
            double l = loss(x, weightRows, outFeatures, SmoothQuant.scales(x.absMax, wmax, alpha));
            if (l < bestLoss) {
                bestLoss = l;
                best = alpha;
            }
        }
        return best;
    }

    /** Σ over the group's outputs of (W8A8 − FP32)² on the kept tokens, with smoothing scales s (null: none). */
    static double loss(ChannelStats x, List<float[]> weightRows, int[] outFeatures, float[] s) {
        int m = x.sampled, k = x.k;
        float[] xq = new float[m * k];
        for (int t = 0; t < m; t++) for (int j = 0; j < k; j++) xq[t * k + j] = s == null ? x.sample[t * k + j] : x.sample[t * k + j] / s[j];
        ActivationQuantization.quantizeRows(xq, 0, m, k, 127, 0);
        double loss = 0;
        for (int i = 0; i < outFeatures.length; i++) {
            int n = outFeatures[i];
            float[] w = weightRows.get(i), ws = w;
            if (s != null) {
                ws = new float[w.length];
                for (int r = 0; r < n; r++) for (int j = 0; j < k; j++) ws[r * k + j] = w[r * k + j] * s[j];
            }
            float[] wq = FakeQuant.apply(ws, n, k, 8, true, 0);
            float[] y = new float[m * n], ref = new float[m * n];
            VectorGemm.gemm(xq, wq, y, m, n, k, Parallel.shared());
            VectorGemm.gemm(x.sample, w, ref, m, n, k, Parallel.shared());
            for (int p = 0; p < y.length; p++) {
                double d = (double) y[p] - ref[p];
                loss += d * d;
            }
        }
        return loss;
    }
}
