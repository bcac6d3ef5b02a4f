package dev.tamp.runtime.kernels;

/** The plain, obviously-correct GEMM every fast kernel is tested against: out = x · Wᵀ, W as [N][K]. */
public final class GemmReference {
    private GemmReference() {}

    public static void gemm(float[] x, float[] w, float[] out, int m, int n, int k) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int p = 0; p < k; p++) s += (double) x[i * k + p] * w[j * k + p];
                out[i * n + j] = (float) s;
            }
        }
    }
}
