package dev.tamp.compot;

import dev.tamp.runtime.linalg.Eigh;
import dev.tamp.runtime.linalg.Linalg;
import dev.tamp.runtime.linalg.Matrix;
import dev.tamp.runtime.linalg.Svd;
import java.util.Random;

/**
 * COMPOT's factorisation in the whitened space: {@code W̃ ≈ D S} with {@code Dᵀ D = I_k} and at most s
 * non-zeros in each column of S (each output neuron uses s of the k atoms). Alternates the two
 * closed-form steps of algorithms.md §3.2:
 * <ul>
 *   <li>coding, D fixed: {@code S = H_s(Dᵀ W̃)} (exact, because D is orthonormal);</li>
 *   <li>dictionary, S fixed: orthogonal Procrustes, {@code W̃ Sᵀ = P Δ Qᵀ → D = P Qᵀ}.</li>
 * </ul>
 * Each step is optimal for its block, so the objective {@code J = ‖W̃ − D S‖²} never increases. The codes
 * are held transposed ({@code Sᵀ}, [N][k]) so that one output neuron is one contiguous row.
 */
public final class OrthogonalDictionary {
    private OrthogonalDictionary() {}

    public enum Init { SVD, RANDOM }

    /** Stop when one alternation lowers J by less than this fraction of ‖W̃‖². */
    public static final double RELATIVE_TOLERANCE = 1e-9;

    /**
     * The fitted factors. {@code codesT} is Sᵀ [N][k] with zeros off the support, {@code support} the kept
     * atom indices [N][s] (ascending per row), {@code objective} J after every coding step and every
     * dictionary step in order (coding, dictionary, coding, ..., final coding).
     */
    public record Fit(Matrix dictionary, Matrix codesT, int[] support, int sparsity, double[] objective, int iterations) {}

    /**
     * Fits a k-atom dictionary with s non-zeros per column to {@code wTilde} (K×N). {@code seed} is used
     * only by the random initialisation.
     */
    public static Fit fit(Matrix wTilde, int atoms, int sparsity, int iterations, Init init, long seed) {
        int kIn = wTilde.rows(), n = wTilde.cols();
        if (atoms < 1 || atoms > kIn) throw new IllegalArgumentException("atoms " + atoms + " outside [1, " + kIn + "] (orthonormal columns)");
        if (sparsity < 1 || sparsity > atoms) throw new IllegalArgumentException("sparsity " + sparsity + " outside [1, " + atoms + "]");
        if (iterations < 0) throw new IllegalArgumentException("iterations must be >= 0, got " + iterations);
        double norm2 = sq(wTilde.frobeniusNorm());
        Matrix d = init == Init.SVD ? leadingLeftSingularVectors(wTilde, atoms) : randomOrthonormal(kIn, atoms, seed);

        double[] history = new double[2 * iterations + 1];
        int h = 0;
        int done = 0;
        double previous = Double.POSITIVE_INFINITY;
        for (int t = 0; t < iterations; t++) {
            Matrix codesT = Linalg.multiply(wTilde, true, d, false);          // Cᵀ = W̃ᵀ D, [N][k]
            SparseCoding.keepTopPerRow(codesT.data(), n, atoms, sparsity);   // Sᵀ = H_s(Cᵀ)
            double codesNorm2 = sq(codesT.frobeniusNorm());
            double jCode = norm2 - codesNorm2;                               // tr(Dᵀ W̃ Sᵀ) = ‖S‖² on the support
            history[h++] = jCode;

            Matrix m = Linalg.multiply(wTilde, codesT);                      // W̃ Sᵀ, [K][k]
            Svd svd = Linalg.svd(m);
            d = Linalg.multiply(svd.u(), svd.vt());                          // P Qᵀ
            double trace = 0;
            for (double v : svd.s()) trace += v;
            history[h++] = norm2 - 2 * trace + codesNorm2;
            done = t + 1;
            if (previous - jCode < RELATIVE_TOLERANCE * norm2) break;
            previous = jCode;
        }
        Matrix codesT = Linalg.multiply(wTilde, true, d, false);
        int[] support = SparseCoding.keepTopPerRow(codesT.data(), n, atoms, sparsity);
        history[h++] = norm2 - sq(codesT.frobeniusNorm());
        double[] objective = java.util.Arrays.copyOf(history, h);
        return new Fit(d, codesT, support, sparsity, objective, done);
    }

    /**
     * The top-k left singular vectors of W̃ (K×N). When k exceeds min(K, N) the thin SVD has too few, so
     * take them from the eigenvectors of W̃ W̃ᵀ (K×K), which complete the basis.
     */
    static Matrix leadingLeftSingularVectors(Matrix wTilde, int atoms) {
        if (atoms <= Math.min(wTilde.rows(), wTilde.cols())) return Linalg.svd(wTilde).u().columns(0, atoms);
        Eigh e = Linalg.eigh(Linalg.multiply(wTilde, false, wTilde, true));
        int kIn = wTilde.rows();
        Matrix d = Matrix.zeros(kIn, atoms);
        for (int j = 0; j < atoms; j++) {
            int src = kIn - 1 - j; // eigenvalues ascending
            for (int i = 0; i < kIn; i++) d.set(i, j, e.vectors().get(i, src));
        }
        return d;
    }

    /** The orthonormal polar factor of a Gaussian matrix: a uniformly random point on the Stiefel manifold. */
    static Matrix randomOrthonormal(int rows, int cols, long seed) {
        Random r = new Random(seed);
        double[] g = new double[rows * cols];
        for (int i = 0; i < g.length; i++) g[i] = r.nextGaussian();
        Svd svd = Linalg.svd(new Matrix(rows, cols, g));
        return Linalg.multiply(svd.u(), svd.vt());
    }

    private static double sq(double x) { return x * x; }
}
