package dev.tamp.distill;

import static org.junit.jupiter.api.Assertions.*;

import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.encoding.DictionaryWeight;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.encoding.IntGroupedWeight;
import dev.tamp.core.encoding.LowRankWeight;
import dev.tamp.core.error.UnsupportedModelException;
import dev.tamp.core.tensor.DType;
import dev.tamp.core.tensor.Tensor;
import dev.tamp.formats.codec.IntGroupCodec;
import dev.tamp.runtime.kernels.WeightDecoders;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Factored (low-rank, COMPOT dictionary) students: the forward weight is the factors' product as tamp decodes it, the
 * factor gradients obtained from the weight gradient by the chain rule match finite differences, and the trained factors
 * re-encode in the student's structure (same support, same shapes).
 */
class FactoredStudentTest {
    static final int N = 6, K = 10;

    static Tensor random(SplittableRandom r, long... shape) {
        int size = 1;
        for (long d : shape) size *= (int) d;
        float[] v = new float[size];
        for (int i = 0; i < size; i++) v[i] = (float) r.nextGaussian();
        return Tensor.ofFloats(v, shape);
    }

    static LowRankWeight lowRank(int kAxis) {
        SplittableRandom r = new SplittableRandom(1);
        long[] shape = kAxis == 1 ? new long[] {N, K} : new long[] {K, N};
        return new LowRankWeight(shape, kAxis, new DenseWeight(random(r, N, 3)), new DenseWeight(random(r, 3, K)));
    }

    /** 5 atoms, 2 per row; row r uses atoms r % 5 and (r + 2) % 5, ascending. */
    static DictionaryWeight dictionary(int kAxis) {
        SplittableRandom r = new SplittableRandom(2);
        byte[] mask = new byte[N];
        for (int row = 0; row < N; row++) mask[row] = (byte) ((1 << (row % 5)) | (1 << ((row + 2) % 5)));
        long[] shape = kAxis == 1 ? new long[] {N, K} : new long[] {K, N};
        return new DictionaryWeight(shape, kAxis, new DenseWeight(random(r, 5, K)), new DenseWeight(random(r, N, 2)),
                Tensor.ofBytes(DType.U8, mask, N, 1), 2);
    }

    /** L(W) = Σ probe ⊙ W over the stored layout, so dL/dW = probe. */
    static double loss(StudentWeight s, float[] probe) {
        float[] w = s.effective(null, null);
        double l = 0;
        for (int i = 0; i < w.length; i++) l += (double) probe[i] * w[i];
        return l;
    }

    static void checkChainRule(EncodedTensor w, int kAxis) {
        StudentWeight s = StudentWeight.of("w", w, kAxis, false);
        assertArrayEquals(WeightDecoders.decodeAsStored("w", w), s.effective(null, null), 1e-5f, "the forward sees tamp's decoded weight");
        SplittableRandom r = new SplittableRandom(9);
        float[] probe = new float[N * K];
        for (int i = 0; i < probe.length; i++) probe[i] = (float) r.nextGaussian();
        float[] g = s.parameterGradient(probe.clone());
        assertEquals(s.master.length, g.length);
        for (int i = 0; i < s.master.length; i++) {
            float keep = s.master[i];
            double eps = 1e-2;
            s.master[i] = (float) (keep + eps);
            double plus = loss(s, probe);
            s.master[i] = (float) (keep - eps);
            double minus = loss(s, probe);
            s.master[i] = keep;
            assertEquals((plus - minus) / (2 * eps), g[i], 2e-3, w.describe() + " parameter " + i);
        }
    }

    @Test
    void lowRankFactorGradientsAreTheChainRule() {
        checkChainRule(lowRank(1), 1);
        checkChainRule(lowRank(0), 0);
    }

    @Test
    void dictionaryCodeAndAtomGradientsAreTheChainRule() {
        checkChainRule(dictionary(1), 1);
        checkChainRule(dictionary(0), 0);
    }

    @Test
    void trainedFactorsKeepTheirStructure() {
        DictionaryWeight d = dictionary(1);
        StudentWeight s = StudentWeight.of("w", d, 1, false);
        for (int i = 0; i < s.master.length; i++) s.master[i] *= 1.5f;
        DictionaryWeight t = assertInstanceOf(DictionaryWeight.class, s.encode(null));
        assertEquals(d.codeMask(), t.codeMask(), "support unchanged");
        for (int row = 0; row < N; row++) assertArrayEquals(d.support(row), t.support(row));
        assertArrayEquals(d.codeValues().shape(), t.codeValues().shape());
        // codes and dictionary both scaled by 1.5: the product by 2.25
        float[] before = WeightDecoders.decode("w", d), after = WeightDecoders.decode("w", t);
        for (int i = 0; i < before.length; i++) assertEquals(2.25f * before[i], after[i], 1e-4f);
        LowRankWeight l = assertInstanceOf(LowRankWeight.class, StudentWeight.of("l", lowRank(0), 0, false).encode(null));
        assertArrayEquals(lowRank(0).left().shape(), l.left().shape());
    }

    @Test
    void quantizedFactorsAreRefusedInOneLine() {
        LowRankWeight l = lowRank(1);
        IntGroupedWeight q = IntGroupCodec.quantize(((DenseWeight) l.left()).tensor(), 1, 8, true, 0);
        UnsupportedModelException e = assertThrows(UnsupportedModelException.class,
                () -> StudentWeight.of("w", new LowRankWeight(l.shape(), 1, q, l.right()), 1, false));
        assertTrue(e.getMessage().contains("float-factor student"), e.getMessage());
    }
}
