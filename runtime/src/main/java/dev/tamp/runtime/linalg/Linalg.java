package dev.tamp.runtime.linalg;

import java.util.Locale;
import java.util.Optional;

/**
 * Dense float64 linear algebra for the compression methods (COMPOT, SVD baselines, SparseGPT):
 * thin SVD, Cholesky, symmetric eigen-decomposition, triangular solves and matrix products.
 *
 * <p>Two interchangeable paths: LAPACK/BLAS through OpenBLAS (fast for large matrices) and pure Java
 * through EJML (no natives; fine for small ones and the fallback when the native library cannot load).
 * The path is chosen by size unless the system property {@code tamp.linalg=lapack|java} forces one;
 * every method also has an overload taking an explicit {@link Backend}.
 */
public final class Linalg {
    private Linalg() {}

    public enum Backend { LAPACK, JAVA }

    /** Matrices whose smaller side is below this go to the Java path by default (JNI copies dominate). */
    static final int LAPACK_MIN_DIM = 48;

    /** True when OpenBLAS loaded; otherwise every call runs on the Java path. */
    public static boolean nativeAvailable() { return NativeBlas.available(); }

    /** The backend used for a problem whose smaller dimension is {@code minDim}. */
    public static Backend choose(int minDim) {
        String forced = System.getProperty("tamp.linalg");
        if (forced != null && !forced.isBlank()) {
            switch (forced.trim().toLowerCase(Locale.ROOT)) {
                case "java": return Backend.JAVA;
                case "lapack":
                    if (!NativeBlas.available()) {
                        throw new IllegalStateException("tamp.linalg=lapack but OpenBLAS could not load: " + NativeBlas.failure());
                    }
                    return Backend.LAPACK;
                default: throw new IllegalArgumentException("tamp.linalg must be lapack or java, got '" + forced + "'");
            }
        }
        return minDim >= LAPACK_MIN_DIM && NativeBlas.available() ? Backend.LAPACK : Backend.JAVA;
    }

    private static Backend resolve(Backend b) {
        if (b == Backend.LAPACK && !NativeBlas.available()) {
            throw new IllegalStateException("OpenBLAS could not load: " + NativeBlas.failure());
        }
        return b;
    }

    // ---- SVD ------------------------------------------------------------------------------------------

    /** Thin SVD, singular values descending. Throws {@link ArithmeticException} if it does not converge or the input is not finite. */
    public static Svd svd(Matrix a) { return svd(a, choose(Math.min(a.rows(), a.cols()))); }

    public static Svd svd(Matrix a, Backend backend) {
        requireFinite(a, "svd");
        return resolve(backend) == Backend.LAPACK ? LapackOps.svd(a) : JavaOps.svd(a);
    }

    // ---- Cholesky -------------------------------------------------------------------------------------

    /**
     * Lower-triangular L with {@code A = L Lᵀ} (strict upper triangle zero), or empty when A is not
     * (numerically) positive definite or not finite. Only the lower triangle of A is read.
     */
    public static Optional<Matrix> cholesky(Matrix a) { return cholesky(a, choose(a.rows())); }

    public static Optional<Matrix> cholesky(Matrix a, Backend backend) {
        requireSquare(a, "cholesky");
        if (!allFinite(a)) return Optional.empty();
        return resolve(backend) == Backend.LAPACK ? LapackOps.cholesky(a) : JavaOps.cholesky(a);
    }

    /** {@code A⁻¹} from A's lower Cholesky factor L (full symmetric matrix). */
    public static Matrix inverseFromCholesky(Matrix lower) { return inverseFromCholesky(lower, choose(lower.rows())); }

    public static Matrix inverseFromCholesky(Matrix lower, Backend backend) {
        requireSquare(lower, "inverseFromCholesky");
        return resolve(backend) == Backend.LAPACK ? LapackOps.inverseFromCholesky(lower) : JavaOps.inverseFromCholesky(lower);
    }

    // ---- symmetric eigen ------------------------------------------------------------------------------

    /** Eigenvalues ascending with eigenvectors as columns; only the lower triangle of A is read. */
    public static Eigh eigh(Matrix a) { return eigh(a, choose(a.rows())); }

    public static Eigh eigh(Matrix a, Backend backend) {
        requireSquare(a, "eigh");
        requireFinite(a, "eigh");
        return resolve(backend) == Backend.LAPACK ? LapackOps.eigh(a) : JavaOps.eigh(a);
    }

    // ---- triangular solves ------------------------------------------------------------------------------

    /**
     * Solves {@code op(L) X = B} for X with L lower-triangular (n×n) and B n×r; op is the transpose when
     * {@code transpose}. Used to de-whiten without forming an inverse.
     */
    public static Matrix solveLower(Matrix lower, Matrix b, boolean transpose) {
        return solveLower(lower, b, transpose, choose(Math.min(lower.rows(), b.cols())));
    }

    public static Matrix solveLower(Matrix lower, Matrix b, boolean transpose, Backend backend) {
        requireSquare(lower, "solveLower");
        if (b.rows() != lower.rows()) {
            throw new IllegalArgumentException("solveLower: L is " + lower.rows() + "x" + lower.cols() + ", B has " + b.rows() + " rows");
        }
        for (int i = 0; i < lower.rows(); i++) {
            if (lower.get(i, i) == 0) throw new ArithmeticException("solveLower: singular triangular matrix (zero at " + i + ")");
        }
        return resolve(backend) == Backend.LAPACK ? LapackOps.solveLower(lower, b, transpose) : JavaOps.solveLower(lower, b, transpose);
    }

    // ---- products -------------------------------------------------------------------------------------

    /** {@code A · B}. */
    public static Matrix multiply(Matrix a, Matrix b) { return multiply(a, false, b, false); }

    /** {@code op(A) · op(B)} with op the transpose where asked. */
    public static Matrix multiply(Matrix a, boolean transA, Matrix b, boolean transB) {
        int m = transA ? a.cols() : a.rows();
        int n = transB ? b.rows() : b.cols();
        return multiply(a, transA, b, transB, choose(Math.min(m, n)));
    }

    public static Matrix multiply(Matrix a, boolean transA, Matrix b, boolean transB, Backend backend) {
        int m = transA ? a.cols() : a.rows();
        int ka = transA ? a.rows() : a.cols();
        int kb = transB ? b.cols() : b.rows();
        int n = transB ? b.rows() : b.cols();
        if (ka != kb) {
            throw new IllegalArgumentException("multiply: inner dims differ (" + ka + " vs " + kb + ")");
        }
        double[] c = new double[Math.multiplyExact(m, n)];
        dgemm(transA, transB, m, n, ka, 1.0, a.data(), a.cols(), b.data(), b.cols(), 0.0, c, n, backend);
        return new Matrix(m, n, c);
    }

    /** Row-major {@code C = alpha·op(A)·op(B) + beta·C} (BLAS dgemm semantics). */
    public static void dgemm(boolean transA, boolean transB, int m, int n, int k, double alpha, double[] a, int lda,
                             double[] b, int ldb, double beta, double[] c, int ldc) {
        dgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, choose(Math.min(m, n)));
    }

    public static void dgemm(boolean transA, boolean transB, int m, int n, int k, double alpha, double[] a, int lda,
                             double[] b, int ldb, double beta, double[] c, int ldc, Backend backend) {
        if (m == 0 || n == 0) return;
        if (resolve(backend) == Backend.LAPACK) LapackOps.dgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        else JavaOps.dgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }

    /** Row-major {@code C = alpha·op(A)·op(B) + beta·C} in float32 (BLAS sgemm semantics). */
    public static void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] a, int lda,
                             float[] b, int ldb, float beta, float[] c, int ldc) {
        sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, choose(Math.min(m, n)));
    }

    public static void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] a, int lda,
                             float[] b, int ldb, float beta, float[] c, int ldc, Backend backend) {
        if (m == 0 || n == 0) return;
        if (resolve(backend) == Backend.LAPACK) LapackOps.sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        else JavaOps.sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }

    // ---- checks ---------------------------------------------------------------------------------------

    static boolean allFinite(Matrix a) { return a.allFinite(); }

    private static void requireFinite(Matrix a, String op) {
        if (!allFinite(a)) throw new ArithmeticException(op + ": matrix has NaN or infinite entries");
    }

    private static void requireSquare(Matrix a, String op) {
        if (!a.isSquare()) throw new IllegalArgumentException(op + " needs a square matrix, got " + a.rows() + "x" + a.cols());
    }
}
