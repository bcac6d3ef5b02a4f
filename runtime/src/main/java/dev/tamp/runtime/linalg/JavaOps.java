package dev.tamp.runtime.linalg;

import java.util.Arrays;
import java.util.Optional;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.SingularOps_DDRM;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.interfaces.decomposition.CholeskyDecomposition_F64;
import org.ejml.interfaces.decomposition.EigenDecomposition_F64;
import org.ejml.interfaces.decomposition.SingularValueDecomposition_F64;

/** The pure-Java path: EJML decompositions, plain loops for solves and products. */
final class JavaOps {
    private JavaOps() {}

    static Svd svd(Matrix a) {
        int m = a.rows(), n = a.cols(), p = Math.min(m, n);
        if (p == 0) return new Svd(Matrix.zeros(m, 0), new double[0], Matrix.zeros(0, n));
        SingularValueDecomposition_F64<DMatrixRMaj> dec = DecompositionFactory_DDRM.svd(m, n, true, true, true);
        if (!dec.decompose(new DMatrixRMaj(m, n, true, a.data().clone()))) {
            throw new ArithmeticException("EJML SVD did not converge on " + m + "x" + n);
        }
        DMatrixRMaj u = dec.getU(null, false);
        DMatrixRMaj w = dec.getW(null);
        DMatrixRMaj vt = dec.getV(null, true);
        SingularOps_DDRM.descendingOrder(u, false, w, vt, true);
        double[] s = new double[p];
        for (int i = 0; i < p; i++) s[i] = w.get(i, i);
        return new Svd(new Matrix(m, p, u.data.length == m * p ? u.data : Arrays.copyOf(u.data, m * p)), s,
                new Matrix(p, n, vt.data.length == p * n ? vt.data : Arrays.copyOf(vt.data, p * n)));
    }

    static Optional<Matrix> cholesky(Matrix a) {
        int n = a.rows();
        CholeskyDecomposition_F64<DMatrixRMaj> dec = DecompositionFactory_DDRM.chol(n, true);
        if (!dec.decompose(new DMatrixRMaj(n, n, true, a.data().clone()))) return Optional.empty();
        DMatrixRMaj t = dec.getT(null);
        double[] l = Arrays.copyOf(t.data, n * n);
        LapackOps.zeroStrictUpper(l, n);
        for (int i = 0; i < n; i++) {
            // EJML accepts a zero/NaN pivot in some builds; treat that as not positive definite.
            double d = l[i * n + i];
            if (!(d > 0) || !Double.isFinite(d)) return Optional.empty();
        }
        return Optional.of(new Matrix(n, n, l));
    }

    static Matrix inverseFromCholesky(Matrix lower) {
        int n = lower.rows();
        // A⁻¹ = L⁻ᵀ L⁻¹: solve L Y = I, then Lᵀ X = Y.
        Matrix y = solveLower(lower, Matrix.identity(n), false);
        Matrix x = solveLower(lower, y, true);
        double[] d = x.data();
        for (int i = 0; i < n; i++) {
            for (int j = i + 1; j < n; j++) {
                double v = 0.5 * (d[i * n + j] + d[j * n + i]);
                d[i * n + j] = v;
                d[j * n + i] = v;
            }
        }
        return x;
    }

    static Eigh eigh(Matrix a) {
        int n = a.rows();
        if (n == 0) return new Eigh(new double[0], Matrix.zeros(0, 0));
        double[] sym = a.data().clone();
        for (int i = 0; i < n; i++) {
            for (int j = i + 1; j < n; j++) sym[i * n + j] = sym[j * n + i]; // read the lower triangle, like LAPACK
        }
        EigenDecomposition_F64<DMatrixRMaj> dec = DecompositionFactory_DDRM.eig(n, true, true);
        if (!dec.decompose(new DMatrixRMaj(n, n, true, sym))) {
            throw new ArithmeticException("EJML symmetric eigen-decomposition did not converge on " + n + "x" + n);
        }
        Integer[] order = new Integer[n];
        double[] vals = new double[n];
        for (int i = 0; i < n; i++) { order[i] = i; vals[i] = dec.getEigenvalue(i).getReal(); }
        Arrays.sort(order, (x, y) -> Double.compare(vals[x], vals[y]));
        double[] w = new double[n];
        double[] v = new double[n * n];
        for (int j = 0; j < n; j++) {
            w[j] = vals[order[j]];
            DMatrixRMaj vec = dec.getEigenVector(order[j]);
            for (int i = 0; i < n; i++) v[i * n + j] = vec.get(i, 0);
        }
        return new Eigh(w, new Matrix(n, n, v));
    }

    static Matrix solveLower(Matrix lower, Matrix b, boolean transpose) {
        int n = lower.rows(), r = b.cols();
        double[] l = lower.data();
        double[] x = b.data().clone();
        if (!transpose) { // forward substitution, row i of X at a time
            for (int i = 0; i < n; i++) {
                int xi = i * r;
                for (int k = 0; k < i; k++) {
                    double lik = l[i * n + k];
                    if (lik == 0) continue;
                    int xk = k * r;
                    for (int j = 0; j < r; j++) x[xi + j] -= lik * x[xk + j];
                }
                double inv = 1.0 / l[i * n + i];
                for (int j = 0; j < r; j++) x[xi + j] *= inv;
            }
        } else { // Lᵀ is upper-triangular: back substitution, (Lᵀ)_{ik} = L_{ki}
            for (int i = n - 1; i >= 0; i--) {
                int xi = i * r;
                for (int k = i + 1; k < n; k++) {
                    double lki = l[k * n + i];
                    if (lki == 0) continue;
                    int xk = k * r;
                    for (int j = 0; j < r; j++) x[xi + j] -= lki * x[xk + j];
                }
                double inv = 1.0 / l[i * n + i];
                for (int j = 0; j < r; j++) x[xi + j] *= inv;
            }
        }
        return new Matrix(n, r, x);
    }

    static void dgemm(boolean ta, boolean tb, int m, int n, int k, double alpha, double[] a, int lda,
                      double[] b, int ldb, double beta, double[] c, int ldc) {
        double[] row = new double[n];
        for (int i = 0; i < m; i++) {
            Arrays.fill(row, 0);
            for (int p = 0; p < k; p++) {
                double av = ta ? a[p * lda + i] : a[i * lda + p];
                if (av == 0) continue;
                if (tb) {
                    for (int j = 0; j < n; j++) row[j] += av * b[j * ldb + p];
                } else {
                    int bo = p * ldb;
                    for (int j = 0; j < n; j++) row[j] += av * b[bo + j];
                }
            }
            int co = i * ldc;
            for (int j = 0; j < n; j++) c[co + j] = alpha * row[j] + (beta == 0 ? 0 : beta * c[co + j]);
        }
    }

    static void sgemm(boolean ta, boolean tb, int m, int n, int k, float alpha, float[] a, int lda,
                      float[] b, int ldb, float beta, float[] c, int ldc) {
        float[] row = new float[n];
        for (int i = 0; i < m; i++) {
            Arrays.fill(row, 0);
            for (int p = 0; p < k; p++) {
                float av = ta ? a[p * lda + i] : a[i * lda + p];
                if (av == 0) continue;
                if (tb) {
                    for (int j = 0; j < n; j++) row[j] += av * b[j * ldb + p];
                } else {
                    int bo = p * ldb;
                    for (int j = 0; j < n; j++) row[j] += av * b[bo + j];
                }
            }
            int co = i * ldc;
            for (int j = 0; j < n; j++) c[co + j] = alpha * row[j] + (beta == 0 ? 0 : beta * c[co + j]);
        }
    }
}
