package dev.tamp.compot;

import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.encoding.DictionaryWeight;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.encoding.LowRankWeight;
import dev.tamp.core.tensor.DType;
import dev.tamp.core.tensor.Tensor;
import dev.tamp.runtime.linalg.Linalg;
import dev.tamp.runtime.linalg.Matrix;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Turns float64 factors into the stored encodings (float32 values, a bit mask of the used atoms) and decodes any
 * of them back to a float64 [N][K] matrix, so errors are measured on what is actually stored.
 */
public final class Encodings {
    private Encodings() {}

    /**
     * W[N][K] ≈ codes[N][k] · dictionary[k][K]. {@code dewhitenedAtoms} is A = R^{-T} D (K×k), {@code codesT}
     * is Sᵀ [N][k], {@code support} the kept atoms [N][s], ascending per row.
     */
    public static DictionaryWeight dictionary(long[] shape, int kAxis, Matrix dewhitenedAtoms, Matrix codesT, int[] support, int sparsity) {
        int atoms = dewhitenedAtoms.cols(), n = codesT.rows();
        Tensor dict = Tensor.ofFloats(dewhitenedAtoms.transpose().toFloats(), atoms, dewhitenedAtoms.rows());
        float[] values = new float[n * sparsity];
        for (int r = 0; r < n; r++) {
            for (int j = 0; j < sparsity; j++) values[r * sparsity + j] = (float) codesT.get(r, support[r * sparsity + j]);
        }
        int maskRow = StorageBudget.maskBytesPerRow(atoms);
        byte[] mask = new byte[n * maskRow];
        for (int r = 0; r < n; r++) {
            for (int j = 0; j < sparsity; j++) {
                int a = support[r * sparsity + j];
                if (j > 0 && a <= support[r * sparsity + j - 1]) throw new IllegalArgumentException("support of row " + r + " not ascending");
                mask[r * maskRow + a / 8] |= (byte) (1 << (a % 8));
            }
        }
        return new DictionaryWeight(shape.clone(), kAxis, new DenseWeight(dict), new DenseWeight(Tensor.ofFloats(values, n, sparsity)),
                Tensor.of(DType.U8, new long[] {n, maskRow}, ByteBuffer.wrap(mask)), sparsity);
    }

    /** W[N][K] ≈ left[N][r] · right[r][K]. */
    public static LowRankWeight lowRank(long[] shape, int kAxis, Matrix left, Matrix right) {
        return new LowRankWeight(shape.clone(), kAxis, new DenseWeight(Tensor.ofFloats(left.toFloats(), left.rows(), left.cols())),
                new DenseWeight(Tensor.ofFloats(right.toFloats(), right.rows(), right.cols())));
    }

    /** The weight unchanged, as float32 in its graph orientation. */
    public static DenseWeight dense(LayerInput layer) {
        Tensor w = layer.weight();
        return new DenseWeight(w.dtype() == DType.F32 ? w : Tensor.ofFloats(w.toFloatArray(), w.shape()));
    }

    /**
     * Decodes any encoding this module produces into float64 [N][K]. The factorised records are [N][K] by
     * definition; a dense weight is in its graph orientation, which {@code kAxis} names.
     */
    public static Matrix decodeNK(EncodedTensor e, int kAxis) {
        if (e instanceof DenseWeight d) {
            Matrix m = floats(d.tensor());
            return kAxis == 1 ? m : m.transpose();
        }
        if (e instanceof LowRankWeight lr) {
            Matrix left = floats(((DenseWeight) lr.left()).tensor());
            Matrix right = floats(((DenseWeight) lr.right()).tensor());
            return Linalg.multiply(left, right);
        }
        if (e instanceof DictionaryWeight dw) {
            Matrix dict = floats(((DenseWeight) dw.dictionary()).tensor());
            Tensor values = ((DenseWeight) dw.codeValues()).tensor();
            int n = (int) values.dim(0), s = dw.sparsity(), kIn = dict.cols();
            double[] out = new double[n * kIn];
            for (int r = 0; r < n; r++) {
                int[] support = dw.support(r);
                for (int j = 0; j < s; j++) {
                    double v = values.getFloat((long) r * s + j);
                    if (v == 0) continue;
                    int atom = support[j];
                    int o = atom * kIn;
                    for (int c = 0; c < kIn; c++) out[r * kIn + c] += v * dict.data()[o + c];
                }
            }
            return new Matrix(n, kIn, out);
        }
        throw new IllegalArgumentException("not a COMPOT/SVD encoding: " + e.describe());
    }

    private static Matrix floats(Tensor t) {
        return Matrix.ofFloats((int) t.dim(0), (int) t.dim(1), t.toFloatArray());
    }
}
