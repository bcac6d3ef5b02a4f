package dev.tamp.runtime.kernels;

import static org.junit.jupiter.api.Assertions.*;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Every GEMM path against the plain reference, over shapes that do and do not divide the vector width. */
class GemmKernelsTest {
    static float[] rand(SplittableRandom r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) r.nextGaussian();
        return v;
    }

    /** FP32 sums of k products carry rounding error growing like √k; the reference sums in double. */
    static void assertClose(float[] want, float[] got, int k, String what) {
        double maxRel = 0;
        for (int i = 0; i < want.length; i++) maxRel = Math.max(maxRel, Math.abs(want[i] - got[i]) / (1 + Math.abs(want[i])));
        double tol = 3e-6 * Math.sqrt(k);
        assertTrue(maxRel <= tol, what + ": max relative error " + maxRel + " > " + tol);
    }

    @Test
    void vectorBlasAndNnKernelsMatchReference() {
        SplittableRandom r = new SplittableRandom(9);
        Parallel par = new Parallel(2);
        int[][] shapes = {{1, 1, 1}, {3, 5, 7}, {4, 4, 16}, {17, 33, 65}, {67, 13, 41}, {64, 64, 64}, {130, 70, 300}, {2, 129, 1}};
        for (int[] s : shapes) {
            int m = s[0], n = s[1], k = s[2];
            float[] x = rand(r, m * k), w = rand(r, n * k), want = new float[m * n];
            GemmReference.gemm(x, w, want, m, n, k);
            float[] got = new float[m * n];
            VectorGemm.gemm(x, w, got, m, n, k, par);
            assertClose(want, got, k, "vector " + m + "x" + n + "x" + k);
            if (OpenBlas.available()) {
                float[] b = new float[m * n];
                OpenBlas.gemm(x, w, b, m, n, k, par);
                assertClose(want, b, k, "openblas " + m + "x" + n + "x" + k);
            }
            // NN form: b as [k][n] = wᵀ, with offsets
            float[] bt = new float[3 + k * n];
            for (int p = 0; p < k; p++) for (int j = 0; j < n; j++) bt[3 + p * n + j] = w[j * k + p];
            float[] xa = new float[5 + m * k];
            System.arraycopy(x, 0, xa, 5, m * k);
            float[] nn = new float[2 + m * n];
            VectorGemm.gemmNN(xa, 5, bt, 3, nn, 2, m, n, k);
            assertClose(want, java.util.Arrays.copyOfRange(nn, 2, 2 + m * n), k, "nn " + m + "x" + n + "x" + k);
        }
        par.close();
    }

    /** max |Δ| / max |reference|: scale-free, so large K (large outputs) is held to the same bound. */
    static double relativeError(float[] want, float[] got) {
        double d = 0, m = 0;
        for (int i = 0; i < want.length; i++) {
            d = Math.max(d, Math.abs(want[i] - got[i]));
            m = Math.max(m, Math.abs(want[i]));
        }
        return m == 0 ? d : d / m;
    }

    @Test
    void randomShapesUpTo67AndAFewLargeOnesWithinOneInHundredThousand() {
        SplittableRandom r = new SplittableRandom(42);
        java.util.List<int[]> shapes = new java.util.ArrayList<>();
        for (int i = 0; i < 80; i++) shapes.add(new int[] {1 + r.nextInt(67), 1 + r.nextInt(67), 1 + r.nextInt(67)});
        shapes.add(new int[] {128, 1536, 384}); // MiniLM intermediate
        shapes.add(new int[] {257, 384, 1536}); // MiniLM output, odd M
        shapes.add(new int[] {3, 1000, 777}); // decode-like, columns split across threads
        shapes.add(new int[] {50, 1000, 100}); // panel kernel split over panels (few rows)
        double worst = 0;
        String worstShape = "";
        try (Parallel par = new Parallel(2)) {
            for (int[] s : shapes) {
                int m = s[0], n = s[1], k = s[2];
                float[] x = rand(r, m * k), kn = rand(r, k * n), want = new float[m * n];
                // through the executor's seam: an ONNX [K][N] weight prepared once, transposed to [N][K]
                DenseLinearKernel kernel = DenseLinearKernel.fromKn(kn, k, n);
                GemmReference.gemm(x, kernel.denseWeight(), want, m, n, k);
                float[] vec = new float[m * n], viaKernel = new float[m * n];
                VectorGemm.gemm(x, kernel.denseWeight(), vec, m, n, k, par);
                kernel.forward(x, m, viaKernel, par);
                float[] nn = new float[m * n]; // the attention form: B = kn as [K][N], untransposed
                VectorGemm.gemmNN(x, 0, kn, 0, nn, 0, m, n, k);
                float[] panel = new float[m * n];
                PanelGemm.gemm(x, PanelGemm.pack(kernel.denseWeight(), n, k), panel, m, n, k, par);
                for (float[] got : new float[][] {vec, viaKernel, nn, panel}) {
                    double e = relativeError(want, got);
                    if (e > worst) { worst = e; worstShape = m + "x" + n + "x" + k; }
                }
                if (k >= 2) assertEquals(kn[n], kernel.denseWeight()[1], "W[0][1] of [N][K] is B[1][0]");
            }
        }
        System.err.printf("GEMM vs reference over %d shapes: worst relative error %.3g (%s)%n", shapes.size(), worst, worstShape);
        assertTrue(worst <= 1e-5, "worst relative error " + worst + " at " + worstShape);
    }
}
