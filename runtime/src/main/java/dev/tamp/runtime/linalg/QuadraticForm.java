package dev.tamp.runtime.linalg;

import dev.tamp.runtime.kernels.Parallel;
import dev.tamp.runtime.kernels.VectorGemm;
import java.util.Optional;
import org.bytedeco.javacpp.FloatPointer;

/**
 * The quadratic form δ ↦ δ_r·G·δ_rᵀ of one positive semi-definite G [k][k], per row r of many δ [n][k]. With G the
 * Gram matrix XᵀX of a layer's inputs it is the squared output change ‖X·δ_rᵀ‖² of a weight change, without the
 * tokens; a search that scores many candidate weights against one G builds this once and pays only the products.
 * <ul>
 *   <li>{@link Linalg.Backend#LAPACK}: G = L·Lᵀ factored once in float64, then Σ_j (δ·L)²_rj with OpenBLAS's float
 *       triangular product (strmm): half the multiply-adds of δ·G, and a sum of squares, which cannot cancel the way
 *       δ_r·(δ_r·G) can. Channels with G_jj = 0 (never active: their whole row and column of a PSD matrix are zero)
 *       are dropped first. When the rest is still not positive definite (fewer tokens than channels), δ·G itself
 *       (sgemm);</li>
 *   <li>{@link Linalg.Backend#JAVA} (the reference, and the fallback without natives): δ·G with the Vector API GEMM.</li>
 * </ul>
 * Both work in float with float64 row sums. δ is taken in panels of {@link #PANEL} rows whose bounds do not depend on
 * the pool size, each filled by the caller ({@link Rows}) so that a candidate never has to exist whole; the values do
 * not depend on the thread count.
 */
public final class QuadraticForm implements AutoCloseable {
    /** Fills rows [from, to) of δ into out, row-major, {@link #dim()} floats per row. */
    @FunctionalInterface
    public interface Rows {
        void fill(int from, int to, float[] out);
    }

    static final int PANEL = 256;

    private final int k;
    private final Linalg.Backend backend;
    /** Java path: G as float [k][k]. */
    private final float[] gram;
    /** Native path: the live channels (null: all), and L [live][live] or, when G is not positive definite, G itself. */
    private final int[] live;
    private final FloatPointer factor;
    private final boolean triangular;

    private QuadraticForm(int k, Linalg.Backend backend, float[] gram, int[] live, FloatPointer factor, boolean triangular) {
        this.k = k;
        this.backend = backend;
        this.gram = gram;
        this.live = live;
        this.factor = factor;
        this.triangular = triangular;
    }

    /** The form of G / (s·sᵀ) (s null: G), i.e. of the inputs X·diag(1/s); G is float64 [k][k]. */
    public static QuadraticForm of(double[] g, int k, float[] s) {
        return of(g, k, 0, k, s, Linalg.choose(k));
    }

    /**
     * The form of the principal block [from, from + len) of G [ld][ld], divided by s_i·s_j when s is given (indexed
     * like G's channels).
     */
    public static QuadraticForm of(double[] g, int ld, int from, int len, float[] s, Linalg.Backend backend) {
        if (from < 0 || len < 0 || from + len > ld || g.length != (long) ld * ld) {
            throw new IllegalArgumentException("block [" + from + ", " + (from + len) + ") of a " + ld + "² Gram matrix holding " + g.length);
        }
        if (backend == Linalg.Backend.LAPACK && !NativeBlas.available()) {
            throw new IllegalStateException("OpenBLAS could not load: " + NativeBlas.failure());
        }
        if (backend == Linalg.Backend.JAVA) {
            float[] f = new float[len * len];
            for (int i = 0; i < len; i++) for (int j = 0; j < len; j++) f[i * len + j] = (float) entry(g, ld, from, s, i, j);
            return new QuadraticForm(len, backend, f, null, null, false);
        }
        int kept = 0;
        int[] idx = new int[len];
        for (int i = 0; i < len; i++) if (entry(g, ld, from, s, i, i) != 0) idx[kept++] = i;
        int[] live = kept == len ? null : java.util.Arrays.copyOf(idx, kept);
        double[] a = new double[kept * kept];
        for (int i = 0; i < kept; i++) for (int j = 0; j < kept; j++) a[i * kept + j] = entry(g, ld, from, s, idx[i], idx[j]);
        Optional<Matrix> chol = kept == 0 ? Optional.empty() : Linalg.cholesky(new Matrix(kept, kept, a), Linalg.Backend.LAPACK);
        double[] src = chol.map(Matrix::data).orElse(a);
        FloatPointer p = new FloatPointer(Math.max(1L, (long) kept * kept));
        float[] row = new float[kept];
        for (int i = 0; i < kept; i++) {
            for (int j = 0; j < kept; j++) row[j] = (float) src[i * kept + j];
            p.position((long) i * kept).put(row, 0, kept);
        }
        p.position(0);
        return new QuadraticForm(len, backend, null, live, p, chol.isPresent());
    }

    private static double entry(double[] g, int ld, int from, float[] s, int i, int j) {
        double v = g[(from + i) * ld + from + j];
        return s == null ? v : v / ((double) s[from + i] * s[from + j]);
    }

    public int dim() { return k; }

    /** True when the native path works with the Cholesky factor (false: with G, or on the Java path). */
    public boolean factored() { return triangular; }

    /** Σ_r δ_r·G·δ_rᵀ for δ [n][k]. */
    public double sum(float[] delta, int n) { return sum(copying(delta), n); }

    public double sum(Rows rows, int n) {
        double total = 0;
        for (double v : perRow(rows, n)) total += v;
        return total;
    }

    /** δ_r·G·δ_rᵀ per row of δ [n][k]. */
    public double[] perRow(float[] delta, int n) { return perRow(copying(delta), n); }

    public double[] perRow(Rows rows, int n) {
        double[] out = new double[n];
        int panels = (n + PANEL - 1) / PANEL;
        Parallel.shared().forRange(panels, 1, (p0, p1) -> {
            float[] in = new float[Math.min(n, PANEL) * k];
            float[] scratch = new float[in.length];
            try (Native nat = backend == Linalg.Backend.LAPACK ? new Native(Math.min(n, PANEL)) : null) {
                for (int p = p0; p < p1; p++) {
                    int from = p * PANEL, to = Math.min(n, from + PANEL);
                    rows.fill(from, to, in);
                    if (nat == null) javaRows(in, to - from, scratch, out, from);
                    else nat.rows(in, to - from, scratch, out, from);
                }
            }
        });
        return out;
    }

    private Rows copying(float[] delta) {
        return (from, to, out) -> System.arraycopy(delta, from * k, out, 0, (to - from) * k);
    }

    private void javaRows(float[] d, int rows, float[] dg, double[] out, int at) {
        VectorGemm.gemm(d, gram, dg, rows, k, k, Parallel.shared());
        for (int r = 0; r < rows; r++) {
            double s = 0;
            for (int j = r * k, e = j + k; j < e; j++) s += (double) d[j] * dg[j];
            out[at + r] = s;
        }
    }

    /** One thread's native buffers for a panel. */
    private final class Native implements AutoCloseable {
        private final int w = live == null ? k : live.length;
        private final FloatPointer b, c;
        private final float[] packed;

        Native(int rows) {
            b = new FloatPointer(Math.max(1L, (long) rows * w));
            c = triangular ? null : new FloatPointer(Math.max(1L, (long) rows * w));
            packed = live == null ? null : new float[rows * w];
        }

        void rows(float[] d, int rows, float[] scratch, double[] out, int at) {
            if (w == 0) return; // G = 0: every value is 0
            float[] x = d;
            if (live != null) {
                for (int r = 0; r < rows; r++) for (int j = 0; j < w; j++) packed[r * w + j] = d[r * k + live[j]];
                x = packed;
            }
            b.position(0).put(x, 0, rows * w);
            b.position(0);
            if (triangular) {
                LapackOps.strmmRightLower(rows, w, factor, b);
                b.get(scratch, 0, rows * w);
                for (int r = 0; r < rows; r++) {
                    double s = 0;
                    for (int j = r * w, e = j + w; j < e; j++) s += (double) scratch[j] * scratch[j];
                    out[at + r] = s;
                }
            } else {
                LapackOps.sgemm(rows, w, w, b, factor, c);
                c.position(0).get(scratch, 0, rows * w);
                for (int r = 0; r < rows; r++) {
                    double s = 0;
                    for (int j = r * w, e = j + w; j < e; j++) s += (double) x[j] * scratch[j];
                    out[at + r] = s;
                }
            }
        }

        @Override
        public void close() {
            b.close();
            if (c != null) c.close();
        }
    }

    @Override
    public void close() {
        if (factor != null) factor.close();
    }
}
