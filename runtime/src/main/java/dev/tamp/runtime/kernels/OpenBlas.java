package dev.tamp.runtime.kernels;

import java.nio.file.Path;
import java.nio.file.Paths;

/**
 * OpenBLAS (natives bundled in org.bytedeco:openblas, extracted once into tamp's cache) for large FP32
 * GEMMs, where it runs about twice as fast as the Vector API kernel on this class of CPU (stack.md §6). It
 * is optional: when the native library cannot load, or with -Dtamp.blas=false, the pure-Java kernel serves.
 * Its thread count follows tamp's pool size; results are deterministic for a fixed thread count.
 */
public final class OpenBlas {
    private static final boolean AVAILABLE = load();

    private OpenBlas() {}

    private static boolean load() {
        if (!Boolean.parseBoolean(System.getProperty("tamp.blas", "true"))) return false;
        try {
            if (System.getProperty("org.bytedeco.javacpp.cachedir") == null) {
                String base = System.getProperty("tamp.cache.dir");
                Path dir = base != null ? Paths.get(base) : Paths.get(System.getProperty("user.home"), ".cache", "tamp");
                System.setProperty("org.bytedeco.javacpp.cachedir", dir.resolve("javacpp").toString());
            }
            // One OpenBLAS thread per call; tamp's own pool splits the rows. OpenBLAS's own threads keep spinning
            // after a call and slow the element-wise ops that follow (measured: attention 188 → 361 ms).
            org.bytedeco.openblas.global.openblas_full.openblas_set_num_threads(1);
            return true;
        } catch (Throwable t) {
            return false;
        }
    }

    public static boolean available() {
        return AVAILABLE;
    }

    /** out[m][n] = x[m][k] · w[n][k]ᵀ (row-major) on the calling thread. */
    public static void sgemm(float[] x, float[] w, float[] out, int m, int n, int k) {
        org.bytedeco.openblas.global.openblas.cblas_sgemm(101 /* RowMajor */, 111 /* NoTrans */, 112 /* Trans */,
                m, n, k, 1f, x, k, w, k, 0f, out, n);
    }

    /** out[m][n] = x[m][k] · w[n][k]ᵀ (row-major), rows split across the pool. */
    public static void gemm(float[] x, float[] w, float[] out, int m, int n, int k, Parallel par) {
        if (par.threads() == 1 || m < 32) {
            sgemm(x, w, out, m, n, k);
            return;
        }
        // float[] arguments only (JavaCPP pins whole arrays): each thread copies its rows in and its results out.
        par.forRange(m, 16, (from, to) -> {
            int rows = to - from;
            float[] a = java.util.Arrays.copyOfRange(x, from * k, to * k);
            float[] c = new float[rows * n];
            sgemm(a, w, c, rows, n, k);
            System.arraycopy(c, 0, out, from * n, rows * n);
        });
    }

    /**
     * Adds XᵀX of x [rows][k] (row-major) to {@code gram} [k][k] in float64: SYRK on the upper triangle (half a GEMM's
     * work), the token rows split across the pool (each thread's partial product summed in float64), then mirrored.
     * Deterministic for a fixed thread count.
     */
    public static void addGram(float[] x, int rows, int k, double[] gram, Parallel par) {
        int parts = Math.max(1, Math.min(par.threads(), rows / 256));
        float[][] partial = new float[parts][];
        par.forRange(parts, 1, (from, to) -> {
            for (int p = from; p < to; p++) {
                int r0 = (int) ((long) rows * p / parts), r1 = (int) ((long) rows * (p + 1) / parts);
                float[] a = r0 == 0 && r1 == rows ? x : java.util.Arrays.copyOfRange(x, r0 * k, r1 * k);
                float[] c = new float[k * k];
                org.bytedeco.openblas.global.openblas.cblas_ssyrk(101 /* RowMajor */, 121 /* Upper */, 112 /* Trans */,
                        k, r1 - r0, 1f, a, k, 0f, c, k);
                partial[p] = c;
            }
        });
        for (float[] c : partial) {
            for (int i = 0; i < k; i++) {
                int row = i * k;
                for (int j = i; j < k; j++) gram[row + j] += c[row + j];
            }
        }
        for (int i = 0; i < k; i++) for (int j = i + 1; j < k; j++) gram[j * k + i] = gram[i * k + j];
    }
}
