package dev.tamp.quantizers;

import dev.tamp.runtime.kernels.Parallel;
import dev.tamp.runtime.kernels.VectorGemm;

/**
 * A layer's relative output error on its calibration inputs X, from the Gram matrix G = XᵀX instead of the tokens:
 * ‖X·(Ŵ − W)ᵀ‖_F / ‖X·Wᵀ‖_F, with ‖X·δᵀ‖² = Σ_rows δ_r·G·δ_rᵀ (the bias cancels). This is the quantity SparseGPT
 * minimises and the one the methods are compared on (algorithms.md §4.5 targets).
 */
public final class LayerOutputError {
    private LayerOutputError() {}

    /** Relative output error of {@code approx} against {@code exact}, both [n][k]; 0 when the exact output is 0. */
    public static double relative(float[] exact, float[] approx, int n, int k, double[] gram) {
        float[] g = new float[k * k];
        for (int i = 0; i < g.length; i++) g[i] = (float) gram[i];
        float[] delta = new float[exact.length];
        for (int i = 0; i < delta.length; i++) delta[i] = approx[i] - exact[i];
        double signal = quadratic(exact, n, k, g);
        return signal <= 0 ? 0 : Math.sqrt(Math.max(0, quadratic(delta, n, k, g)) / signal);
    }

    /** Σ_r v_r·G·v_rᵀ for v [n][k]. */
    public static double quadratic(float[] v, int n, int k, float[] gram) {
        float[] vg = new float[n * k];
        VectorGemm.gemm(v, gram, vg, n, k, k, Parallel.shared());
        double s = 0;
        for (int i = 0; i < vg.length; i++) s += (double) v[i] * vg[i];
        return s;
    }
}
