package dev.tamp.compot;

import dev.tamp.runtime.linalg.Eigh;
import dev.tamp.runtime.linalg.Linalg;
import dev.tamp.runtime.linalg.Matrix;
import java.util.Optional;

/**
 * A square root R of the damped input Gram, {@code G + ε·mean(diag G)·I = R Rᵀ}, so that for any error E
 * in the [K][N] orientation {@code ‖X E‖² ≈ ‖Rᵀ E‖²} (exact up to the damping term ε·mean(diag G)·‖E‖²).
 *
 * <p>R is the lower Cholesky factor. The damping starts at the requested ε and grows ×10 up to 0.1
 * while Cholesky fails; if it still fails (G far from positive semi-definite, e.g. rounding-negative
 * eigenvalues larger than the damping), R is the symmetric eigen square root with eigenvalues clamped
 * at the largest damping floor. Applying R never forms an inverse: de-whitening is a triangular solve
 * (or a product with the clamped inverse root, which the eigen path has for free).
 */
public final class Whitening {
    static final double MAX_DAMPING = 1e-1;

    private final Matrix factor;       // lower L (Cholesky) or symmetric root (eigen)
    private final Matrix inverseRoot;  // eigen path only: V Λ^{-1/2} Vᵀ
    private final double damping;      // ε actually used, relative to mean(diag G)

    private Whitening(Matrix factor, Matrix inverseRoot, double damping) {
        this.factor = factor;
        this.inverseRoot = inverseRoot;
        this.damping = damping;
    }

    /**
     * Factors {@code G} (K×K, symmetric). {@code damping} is the starting relative ε (≥ 0; 0 tries the
     * undamped Gram first and then 1e-8).
     */
    public static Whitening of(Matrix gram, double damping) {
        if (!gram.isSquare()) throw new IllegalArgumentException("Gram must be square, got " + gram.rows() + "x" + gram.cols());
        if (!(damping >= 0) || damping > MAX_DAMPING) {
            throw new IllegalArgumentException("damping must be in [0, " + MAX_DAMPING + "], got " + damping);
        }
        int k = gram.rows();
        double meanDiag = 0;
        for (int i = 0; i < k; i++) meanDiag += gram.get(i, i);
        meanDiag /= Math.max(1, k);
        if (!(meanDiag > 0) || !Double.isFinite(meanDiag)) {
            throw new IllegalArgumentException("Gram has no positive finite diagonal (mean " + meanDiag
                    + "): the layer saw no calibration signal");
        }
        double eps = damping;
        while (true) {
            Optional<Matrix> l = Linalg.cholesky(damped(gram, eps * meanDiag));
            if (l.isPresent()) return new Whitening(l.get(), null, eps);
            if (eps >= MAX_DAMPING) break;
            eps = eps == 0 ? 1e-8 : Math.min(MAX_DAMPING, eps * 10);
        }
        return eigenRoot(gram, MAX_DAMPING * meanDiag, MAX_DAMPING);
    }

    private static Whitening eigenRoot(Matrix gram, double floor, double eps) {
        Eigh e = Linalg.eigh(gram);
        int n = gram.rows();
        double[] sq = new double[n], inv = new double[n];
        for (int j = 0; j < n; j++) {
            double lam = Math.max(e.values()[j], 0) + floor;
            sq[j] = Math.sqrt(lam);
            inv[j] = 1 / sq[j];
        }
        return new Whitening(scaledProduct(e.vectors(), sq), scaledProduct(e.vectors(), inv), eps);
    }

    /** V diag(d) Vᵀ. */
    private static Matrix scaledProduct(Matrix v, double[] d) {
        Matrix vd = v.copy();
        int n = v.rows();
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) vd.set(i, j, vd.get(i, j) * d[j]);
        return Linalg.multiply(vd, false, v, true);
    }

    private static Matrix damped(Matrix g, double add) {
        Matrix d = g.copy();
        for (int i = 0; i < g.rows(); i++) d.set(i, i, d.get(i, i) + add);
        return d;
    }

    /** The relative damping ε that made the factorisation succeed. */
    public double damping() { return damping; }

    /** True when Cholesky failed at every damping and the clamped eigen root is used. */
    public boolean eigenFallback() { return inverseRoot != null; }

    /** R (K×K): lower-triangular on the Cholesky path, symmetric on the eigen path. */
    public Matrix factor() { return factor; }

    /** {@code Rᵀ W} for W in the [K][N] orientation. */
    public Matrix whiten(Matrix wKN) { return Linalg.multiply(factor, true, wKN, false); }

    /** {@code R^{-T} D} for D with K rows: a triangular solve, never an explicit inverse of L. */
    public Matrix dewhiten(Matrix d) {
        if (inverseRoot != null) return Linalg.multiply(inverseRoot, d); // symmetric: R^{-T} = R^{-1}
        return Linalg.solveLower(factor, d, true);
    }
}
