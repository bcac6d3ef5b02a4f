package dev.tamp.quantizers.awq;

import dev.tamp.runtime.kernels.Parallel;
import dev.tamp.runtime.kernels.VectorGemm;

/**
 * The squared output error of a weight change δ = Ŵ − W on calibration inputs X, computed from the Gram matrix
 * G = XᵀX instead of the tokens: ‖X·δᵀ‖² = Σ_rows δ_r·G·δ_rᵀ. It is exactly AWQ's objective for a linear group
 * (the bias cancels), costs N·K² per evaluation whatever the number of tokens, and is what makes a 20-point
 * grid over every layer cheap on a CPU.
 */
final class OutputError {
    private OutputError() {}

    /** Σ_r δ_r·G·δ_rᵀ for δ [n][k] and symmetric G [k][k]. */
    static double of(float[] delta, int n, int k, float[] gram) {
        float[] dg = new float[n * k];
        VectorGemm.gemm(delta, gram, dg, n, k, k, Parallel.shared());
        double s = 0;
        for (int i = 0; i < dg.length; i++) s += (double) delta[i] * dg[i];
        return s;
    }

    /** Per row r: δ_r·G·δ_rᵀ. */
    static double[] perRow(float[] delta, int n, int k, float[] gram) {
        float[] dg = new float[n * k];
        VectorGemm.gemm(delta, gram, dg, n, k, k, Parallel.shared());
        double[] out = new double[n];
        for (int r = 0; r < n; r++) {
            double s = 0;
            for (int j = 0; j < k; j++) s += (double) delta[r * k + j] * dg[r * k + j];
            out[r] = s;
        }
        return out;
    }

    /** ŵ − w elementwise. */
    static float[] difference(float[] approx, float[] exact) {
        float[] d = new float[exact.length];
        for (int i = 0; i < d.length; i++) d[i] = approx[i] - exact[i];
        return d;
    }

    /** G as float [k][k] from the float64 accumulation, optionally for the scaled input X·diag(1/s): G_ij/(s_i s_j). */
    static float[] gram(double[] g, int k, float[] s) {
        float[] out = new float[k * k];
        for (int i = 0; i < k; i++) {
            for (int j = 0; j < k; j++) {
                double v = g[i * k + j];
                if (s != null) v /= (double) s[i] * s[j];
                out[i * k + j] = (float) v;
            }
        }
        return out;
    }
}
