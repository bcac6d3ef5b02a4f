package dev.tamp.runtime.kernels;

import dev.tamp.core.encoding.DictionaryWeight;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.encoding.LowRankWeight;

/**
 * The factorised encodings (low rank, COMPOT dictionary) as products of their parts. Each part is itself an
 * encoded [rows][reduction] matrix (dense or quantized), decoded through {@link WeightDecoders}: a low-rank
 * weight is left[N][r] · right[r][K], a dictionary weight is codes[N][k] · dictionary[k][K] with s non-zero
 * codes per row.
 */
public final class FactoredWeights {
    private FactoredWeights() {}

    /** Sparse code rows: for output row i, {@code s} (atom, value) pairs; atoms ascending. */
    public record Codes(int rows, int atoms, int sparsity, int[] atom, float[] value) {
        /** out[t][i] = Σ_j value[i][j] · z[t][atom[i][j]] for t in [0, tokens); z is [tokens][atoms]. */
        public void apply(float[] z, int tokens, float[] out) {
            for (int t = 0; t < tokens; t++) {
                int zo = t * atoms, oo = t * rows;
                for (int i = 0, p = 0; i < rows; i++) {
                    float acc = 0;
                    for (int j = 0; j < sparsity; j++, p++) acc += value[p] * z[zo + atom[p]];
                    out[oo + i] = acc;
                }
            }
        }

        /** The codes as a dense [rows][atoms] matrix. */
        public float[] dense() {
            float[] d = new float[rows * atoms];
            for (int i = 0, p = 0; i < rows; i++) for (int j = 0; j < sparsity; j++, p++) d[i * atoms + atom[p]] = value[p];
            return d;
        }
    }

    public static Codes codes(DictionaryWeight d) {
        int n = Math.toIntExact(EncodedTensor.rows(d.shape(), d.kAxis())), s = d.sparsity();
        float[] values = WeightDecoders.decode("code values", d.codeValues());
        if (values.length != (long) n * s) throw new IllegalArgumentException("code values hold " + values.length + " floats, expected " + n + "x" + s);
        int[] atom = new int[n * s];
        for (int i = 0; i < n; i++) System.arraycopy(d.support(i), 0, atom, i * s, s);
        return new Codes(n, d.atoms(), s, atom, values);
    }

    /** Dense [N][K]. */
    public static float[] decode(LowRankWeight l) {
        int n = Math.toIntExact(EncodedTensor.rows(l.shape(), l.kAxis())), k = Math.toIntExact(EncodedTensor.cols(l.shape(), l.kAxis()));
        int r = Math.toIntExact(l.right().shape()[0]);
        float[] left = WeightDecoders.decode("left factor", l.left()), right = WeightDecoders.decode("right factor", l.right());
        return product(left, right, n, r, k);
    }

    /** Dense [N][K]. */
    public static float[] decode(DictionaryWeight d) {
        int k = Math.toIntExact(EncodedTensor.cols(d.shape(), d.kAxis()));
        Codes c = codes(d);
        float[] dict = WeightDecoders.decode("dictionary", d.dictionary());
        return product(c.dense(), dict, c.rows(), c.atoms(), k);
    }

    /** a[n][r] · b[r][k], accumulated in the order p = 0..r−1 (row-axpy form, vectorisable by the JIT). */
    static float[] product(float[] a, float[] b, int n, int r, int k) {
        float[] out = new float[n * k];
        for (int i = 0; i < n; i++) {
            for (int p = 0; p < r; p++) {
                float av = a[i * r + p];
                if (av == 0) continue;
                int bo = p * k, oo = i * k;
                for (int c = 0; c < k; c++) out[oo + c] += av * b[bo + c];
            }
        }
        return out;
    }
}
