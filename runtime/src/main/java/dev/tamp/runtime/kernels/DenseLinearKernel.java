package dev.tamp.runtime.kernels;

/**
 * A dense FP32 weight kept as [N][K] floats. Few rows (decode, GEMV) run as dot products over [N][K]
 * ({@link VectorGemm}, memory-bound, stack.md §6); many rows run through OpenBLAS when it loads, else through
 * {@link PanelGemm} on a panel-packed copy made on first use (so the copy costs memory only when used).
 */
public final class DenseLinearKernel implements LinearKernel {
    private final float[] w;
    private final int n;
    private final int k;

    /** @param w row-major [n][k] */
    public DenseLinearKernel(float[] w, int n, int k) {
        if (w.length != (long) n * k) throw new IllegalArgumentException("weight of " + w.length + " floats is not " + n + "x" + k);
        this.w = w;
        this.n = n;
        this.k = k;
    }

    /** From a [K][N] matrix (ONNX MatMul's B), transposed once. */
    public static DenseLinearKernel fromKn(float[] b, int k, int n) {
        float[] w = new float[n * k];
        for (int p = 0; p < k; p++) for (int j = 0; j < n; j++) w[j * k + p] = b[p * n + j];
        return new DenseLinearKernel(w, n, k);
    }

    @Override public int inFeatures() { return k; }

    @Override public int outFeatures() { return n; }

    /** Rows from which OpenBLAS beats the Java kernel including its array-copy overhead (measured on MiniLM shapes). */
    static final int BLAS_MIN_ROWS = 64;

    /** Rows from which the panel kernel beats dot products over [N][K] (the weight is re-read per 4 rows there). */
    static final int PANEL_MIN_ROWS = 8;

    private volatile float[] panels;

    @Override
    public void forward(float[] x, int rows, float[] out, Parallel parallel) {
        if (rows >= BLAS_MIN_ROWS && OpenBlas.available()) OpenBlas.gemm(x, w, out, rows, n, k, parallel);
        else if (rows >= PANEL_MIN_ROWS) PanelGemm.gemm(x, panels(), out, rows, n, k, parallel);
        else VectorGemm.gemm(x, w, out, rows, n, k, parallel);
    }

    private float[] panels() {
        float[] p = panels;
        if (p == null) {
            synchronized (this) {
                if (panels == null) panels = PanelGemm.pack(w, n, k);
                p = panels;
            }
        }
        return p;
    }

    @Override public float[] denseWeight() { return w; }
}
