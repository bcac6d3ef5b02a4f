package dev.tamp.runtime.linalg;

import java.util.Arrays;
import java.util.Optional;

/**
 * The inverse-Hessian factor that the OBS-style layer solvers (SparseGPT, GPTQ; algorithms.md §4.4) sweep with,
 * prepared in one place so that they agree on it:
 * <ol>
 *   <li>dead inputs (H_jj = 0, never active in calibration) get H_jj = 1; the caller zeroes their weight columns;</li>
 *   <li>damping H += λ·mean(diag H)·I;</li>
 *   <li>U = the upper Cholesky factor of H⁻¹ (H⁻¹ = UᵀU), through cholesky(H) → inverse → cholesky.</li>
 * </ol>
 * When a factorisation fails (H not numerically positive definite, or not finite) λ may be raised tenfold and the
 * whole preparation retried, up to a ceiling the caller picks; a caller that wants the references' behaviour of a
 * single try passes a ceiling equal to its λ. If every try fails, U = I and {@link Result#failed} is set: sweeping
 * with the identity spreads no error, which degenerates SparseGPT to magnitude pruning and GPTQ to round-to-nearest.
 * The factorisations run on LAPACK (the OpenBLAS bundled as a Maven dependency, so the same library everywhere it loads)
 * when it is available, else on the pure-Java backend; -Dtamp.linalg=java forces the latter.
 */
public final class HessianInverse {
    /** λ after a failed try with λ = 0: the references' default damping. */
    static final double FIRST_NONZERO_DAMPENING = 0.01;

    /**
     * @param upper       U [k][k] row-major, upper-triangular with H⁻¹ = UᵀU (the identity when {@code failed})
     * @param deadColumns the inputs with H_jj = 0, ascending
     * @param dampening   the λ of the last try (the one that succeeded, or the last that failed)
     * @param failed      whether every try failed and U is the identity
     */
    public record Result(double[] upper, int[] deadColumns, double dampening, boolean failed) {}

    private HessianInverse() {}

    /**
     * @param gram         XᵀX [k][k] in float64 (not modified); the loss is invariant to scaling it, so no 2/n
     * @param dampening    λ of the first try, as a fraction of mean(diag H)
     * @param maxDampening the largest λ to try; each retry multiplies λ by 10 (0 goes to 0.01)
     */
    public static Result prepare(double[] gram, int k, double dampening, double maxDampening) {
        if (gram.length != (long) k * k) throw new IllegalArgumentException("Gram matrix is not " + k + "x" + k);
        if (!(dampening >= 0)) throw new IllegalArgumentException("dampening must be ≥ 0, got " + dampening);
        double[] h = gram.clone();
        int[] dead = new int[k];
        int nDead = 0;
        for (int j = 0; j < k; j++) {
            if (h[j * k + j] == 0) {
                dead[nDead++] = j;
                h[j * k + j] = 1;
            }
        }
        dead = Arrays.copyOf(dead, nDead);
        double trace = 0;
        for (int j = 0; j < k; j++) trace += h[j * k + j];
        double lambda = dampening;
        while (true) {
            double[] damped = h.clone();
            for (int j = 0; j < k; j++) damped[j * k + j] += lambda * trace / k;
            double[] u = inverseUpperFactor(damped, k);
            if (u != null) return new Result(u, dead, lambda, false);
            double next = lambda > 0 ? lambda * 10 : FIRST_NONZERO_DAMPENING;
            if (next > maxDampening * (1 + 1e-9)) break;
            lambda = next;
        }
        double[] eye = new double[k * k];
        for (int j = 0; j < k; j++) eye[j * k + j] = 1;
        return new Result(eye, dead, lambda, true);
    }

    /** U upper-triangular with H⁻¹ = UᵀU, or null when H (or H⁻¹) is not numerically positive definite. */
    private static double[] inverseUpperFactor(double[] h, int k) {
        // LAPACK (the bundled OpenBLAS) where it loads: the three O(k³) factorisations of an FFN-down Hessian (k = 5632
        // in a 1.1B model) take minutes on the Java path; -Dtamp.linalg=java forces that path
        Linalg.Backend backend = Linalg.choose(k);
        Optional<Matrix> l = Linalg.cholesky(new Matrix(k, k, h), backend);
        if (l.isEmpty()) return null;
        Matrix inv = Linalg.inverseFromCholesky(l.get(), backend);
        Optional<Matrix> l2 = Linalg.cholesky(inv, backend);
        if (l2.isEmpty()) return null;
        double[] lower = l2.get().data();
        double[] u = new double[k * k];
        for (int i = 0; i < k; i++) for (int j = i; j < k; j++) u[i * k + j] = lower[j * k + i];
        for (int j = 0; j < k; j++) if (!(u[j * k + j] > 0)) return null;
        return u;
    }
}
