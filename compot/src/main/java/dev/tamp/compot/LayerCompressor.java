package dev.tamp.compot;

import dev.tamp.core.encoding.DictionaryWeight;
import dev.tamp.core.encoding.LowRankWeight;
import dev.tamp.runtime.linalg.Linalg;
import dev.tamp.runtime.linalg.Matrix;
import dev.tamp.runtime.linalg.Svd;

/**
 * The three factorisations of one linear layer at an explicit shape. Internally the weight is turned to
 * the [K][N] orientation of algorithms.md §3.1 ({@code Y = X W}); outputs are the [N][K]-view records.
 */
public final class LayerCompressor {
    private LayerCompressor() {}

    /** A COMPOT layer: its encoding plus the whitened-space fit, for diagnostics and tests. */
    public record DictionaryResult(DictionaryWeight encoding, OrthogonalDictionary.Fit fit, Whitening whitening) {}

    /** COMPOT with k atoms and s non-zeros per output channel. */
    public static DictionaryResult compot(LayerInput layer, int atoms, int sparsity, int iterations, double damping,
                                          OrthogonalDictionary.Init init, long seed) {
        Whitening wh = Whitening.of(layer.gram(), damping);
        Matrix wTilde = wh.whiten(layer.weightNK().transpose());                // Rᵀ W, [K][N]
        OrthogonalDictionary.Fit fit = OrthogonalDictionary.fit(wTilde, atoms, sparsity, iterations, init, seed);
        Matrix dewhitened = wh.dewhiten(fit.dictionary());                      // A = R^{-T} D, [K][k]
        DictionaryWeight enc = Encodings.dictionary(layer.weight().shape(), layer.kAxis(), dewhitened, fit.codesT(),
                fit.support(), sparsity);
        return new DictionaryResult(enc, fit, wh);
    }

    /** Plain truncated SVD of W: left = U_r Σ_r [N][r], right = V_rᵀ [r][K]. */
    public static LowRankWeight truncatedSvd(LayerInput layer, int rank) {
        Svd svd = Linalg.svd(layer.weightNK());
        checkRank(rank, svd);
        Matrix left = scaleColumns(svd.u().columns(0, rank), svd.s());
        return Encodings.lowRank(layer.weight().shape(), layer.kAxis(), left, svd.vt().rowRange(0, rank));
    }

    /**
     * Truncated SVD of the whitened weight Rᵀ W = U Σ Vᵀ (SVD-LLM style), de-whitened:
     * Ŵ[N][K] = (V_r Σ_r) · (R^{-T} U_r)ᵀ.
     */
    public static LowRankWeight whitenedSvd(LayerInput layer, int rank, double damping) {
        return whitenedSvd(layer, rank, Whitening.of(layer.gram(), damping));
    }

    static LowRankWeight whitenedSvd(LayerInput layer, int rank, Whitening wh) {
        Svd svd = Linalg.svd(wh.whiten(layer.weightNK().transpose()));         // [K][N]
        checkRank(rank, svd);
        Matrix left = scaleColumns(svd.vt().rowRange(0, rank).transpose(), svd.s());
        Matrix right = wh.dewhiten(svd.u().columns(0, rank)).transpose();
        return Encodings.lowRank(layer.weight().shape(), layer.kAxis(), left, right);
    }

    /**
     * {@code ‖X (W − Ŵ)ᵀ‖_F / ‖X Wᵀ‖_F} with {@code G = XᵀX}: {@code sqrt(tr(E G Eᵀ) / tr(W G Wᵀ))}, both [N][K].
     */
    public static double whitenedRelativeError(Matrix wNK, Matrix wHatNK, Matrix gram) {
        double num = quadratic(wNK.minus(wHatNK), gram);
        double den = quadratic(wNK, gram);
        return den > 0 ? Math.sqrt(Math.max(0, num) / den) : (num == 0 ? 0 : Double.POSITIVE_INFINITY);
    }

    /** tr(A G Aᵀ). */
    static double quadratic(Matrix a, Matrix gram) {
        Matrix ag = Linalg.multiply(a, gram);
        double s = 0;
        double[] x = ag.data(), y = a.data();
        for (int i = 0; i < x.length; i++) s += x[i] * y[i];
        return s;
    }

    private static void checkRank(int rank, Svd svd) {
        if (rank < 1 || rank > svd.rank()) throw new IllegalArgumentException("rank " + rank + " outside [1, " + svd.rank() + "]");
    }

    private static Matrix scaleColumns(Matrix m, double[] s) {
        Matrix out = m.copy();
        for (int i = 0; i < m.rows(); i++) for (int j = 0; j < m.cols(); j++) out.set(i, j, m.get(i, j) * s[j]);
        return out;
    }
}
