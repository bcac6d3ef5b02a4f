package dev.tamp.runtime.linalg;

import static org.bytedeco.openblas.global.openblas.CblasLower;
import static org.bytedeco.openblas.global.openblas.CblasNoTrans;
import static org.bytedeco.openblas.global.openblas.CblasNonUnit;
import static org.bytedeco.openblas.global.openblas.CblasRight;
import static org.bytedeco.openblas.global.openblas.CblasRowMajor;
import static org.bytedeco.openblas.global.openblas.CblasTrans;
import static org.bytedeco.openblas.global.openblas.LAPACK_ROW_MAJOR;

import java.util.Optional;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.openblas.global.openblas;

/** The OpenBLAS/LAPACKE path. All calls use row-major storage, so our arrays go in as they are. */
final class LapackOps {
    private LapackOps() {}

    static Svd svd(Matrix a) {
        int m = a.rows(), n = a.cols(), p = Math.min(m, n);
        if (p == 0) return new Svd(Matrix.zeros(m, 0), new double[0], Matrix.zeros(0, n));
        double[] work = a.data().clone(); // dgesdd destroys its input
        double[] s = new double[p];
        double[] u = new double[m * p];
        double[] vt = new double[p * n];
        int info = openblas.LAPACKE_dgesdd(LAPACK_ROW_MAJOR, (byte) 'S', m, n, work, n, s, u, p, vt, n);
        if (info != 0) throw new ArithmeticException("LAPACKE_dgesdd failed (info " + info + ") on " + m + "x" + n);
        return new Svd(new Matrix(m, p, u), s, new Matrix(p, n, vt));
    }

    static Optional<Matrix> cholesky(Matrix a) {
        int n = a.rows();
        double[] l = a.data().clone();
        int info = openblas.LAPACKE_dpotrf(LAPACK_ROW_MAJOR, (byte) 'L', n, l, n);
        if (info > 0) return Optional.empty(); // leading minor `info` not positive definite
        if (info < 0) throw new IllegalArgumentException("LAPACKE_dpotrf: bad argument " + (-info));
        zeroStrictUpper(l, n);
        return Optional.of(new Matrix(n, n, l));
    }

    static Matrix inverseFromCholesky(Matrix lower) {
        int n = lower.rows();
        double[] inv = lower.data().clone();
        int info = openblas.LAPACKE_dpotri(LAPACK_ROW_MAJOR, (byte) 'L', n, inv, n);
        if (info != 0) throw new ArithmeticException("LAPACKE_dpotri failed (info " + info + "): singular factor");
        for (int i = 0; i < n; i++) {
            for (int j = i + 1; j < n; j++) inv[i * n + j] = inv[j * n + i];
        }
        return new Matrix(n, n, inv);
    }

    static Eigh eigh(Matrix a) {
        int n = a.rows();
        double[] v = a.data().clone();
        double[] w = new double[n];
        if (n == 0) return new Eigh(w, Matrix.zeros(0, 0));
        int info = openblas.LAPACKE_dsyevd(LAPACK_ROW_MAJOR, (byte) 'V', (byte) 'L', n, v, n, w);
        if (info != 0) throw new ArithmeticException("LAPACKE_dsyevd failed (info " + info + ") on " + n + "x" + n);
        return new Eigh(w, new Matrix(n, n, v));
    }

    static Matrix solveLower(Matrix lower, Matrix b, boolean transpose) {
        int n = lower.rows(), r = b.cols();
        double[] x = b.data().clone();
        if (n == 0 || r == 0) return new Matrix(n, r, x);
        int info = openblas.LAPACKE_dtrtrs(LAPACK_ROW_MAJOR, (byte) 'L', (byte) (transpose ? 'T' : 'N'), (byte) 'N',
                n, r, lower.data(), n, x, r);
        if (info != 0) throw new ArithmeticException("LAPACKE_dtrtrs failed (info " + info + ")");
        return new Matrix(n, r, x);
    }

    static void dgemm(boolean ta, boolean tb, int m, int n, int k, double alpha, double[] a, int lda,
                      double[] b, int ldb, double beta, double[] c, int ldc) {
        openblas.cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }

    static void sgemm(boolean ta, boolean tb, int m, int n, int k, float alpha, float[] a, int lda,
                      float[] b, int ldb, float beta, float[] c, int ldc) {
        openblas.cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }

    /** B := B·L in place, B [m][n] and L [n][n] lower-triangular, float, off-heap (no array is copied across JNI). */
    static void strmmRightLower(int m, int n, FloatPointer l, FloatPointer b) {
        openblas.cblas_strmm(CblasRowMajor, CblasRight, CblasLower, CblasNoTrans, CblasNonUnit, m, n, 1f, l, n, b, n);
    }

    /** C := A·B, A [m][k], B [k][n], float, off-heap. */
    static void sgemm(int m, int n, int k, FloatPointer a, FloatPointer b, FloatPointer c) {
        openblas.cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1f, a, k, b, n, 0f, c, n);
    }

    static void zeroStrictUpper(double[] a, int n) {
        for (int i = 0; i < n; i++) {
            for (int j = i + 1; j < n; j++) a[i * n + j] = 0;
        }
    }
}
