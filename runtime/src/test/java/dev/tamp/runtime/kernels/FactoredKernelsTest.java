package dev.tamp.runtime.kernels;

import static org.junit.jupiter.api.Assertions.*;

import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.encoding.DictionaryWeight;
import dev.tamp.core.encoding.LowRankWeight;
import dev.tamp.core.tensor.DType;
import dev.tamp.core.tensor.Tensor;
import dev.tamp.formats.codec.IntGroupCodec;
import java.nio.ByteBuffer;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Low-rank and dictionary weights: the decoders against a plain reference product, and the two-product
 * kernel against the decode-at-load kernel, with dense and INT8-quantized factors.
 */
class FactoredKernelsTest {
    static final int N = 37, K = 45, R = 11, ATOMS = 20, S = 6, ROWS = 9;

    @Test
    void lowRankDecodesToLeftTimesRightAndBothKernelsAgree() {
        SplittableRandom r = new SplittableRandom(5);
        float[] left = GemmKernelsTest.rand(r, N * R), right = GemmKernelsTest.rand(r, R * K);
        LowRankWeight w = new LowRankWeight(new long[] {N, K}, 1, new DenseWeight(Tensor.ofFloats(left, N, R)),
                new DenseWeight(Tensor.ofFloats(right, R, K)));
        float[] want = new float[N * K];
        for (int i = 0; i < N; i++) for (int c = 0; c < K; c++) {
            double s = 0;
            for (int p = 0; p < R; p++) s += (double) left[i * R + p] * right[p * K + c];
            want[i * K + c] = (float) s;
        }
        assertTrue(GemmKernelsTest.relativeError(want, WeightDecoders.decode("w", w)) < 1e-6);
        assertKernelsAgree(FactoredLinearKernel.of("w", w), w);
        // ONNX orientation [K][N] and an INT8 right factor
        LowRankWeight kn = new LowRankWeight(new long[] {K, N}, 0, w.left(),
                IntGroupCodec.quantize(Tensor.ofFloats(right, R, K), 1, 8, true, 0));
        assertKernelsAgree(FactoredLinearKernel.of("kn", kn), kn);
    }

    @Test
    void dictionaryDecodesThroughItsMaskAndBothKernelsAgree() {
        SplittableRandom r = new SplittableRandom(6);
        float[] dict = GemmKernelsTest.rand(r, ATOMS * K), values = GemmKernelsTest.rand(r, N * S);
        int bytesPerRow = (ATOMS + 7) / 8;
        byte[] mask = new byte[N * bytesPerRow];
        int[][] support = new int[N][S];
        for (int i = 0; i < N; i++) {
            boolean[] used = new boolean[ATOMS];
            for (int j = 0; j < S; ) {
                int a = r.nextInt(ATOMS);
                if (used[a]) continue;
                used[a] = true;
                j++;
            }
            for (int a = 0, j = 0; a < ATOMS; a++) {
                if (!used[a]) continue;
                support[i][j++] = a;
                mask[i * bytesPerRow + a / 8] |= (byte) (1 << (a % 8));
            }
        }
        DictionaryWeight w = new DictionaryWeight(new long[] {N, K}, 1, new DenseWeight(Tensor.ofFloats(dict, ATOMS, K)),
                new DenseWeight(Tensor.ofFloats(values, N, S)), Tensor.of(DType.U8, new long[] {N, bytesPerRow}, ByteBuffer.wrap(mask)), S);
        for (int i = 0; i < N; i++) assertArrayEquals(support[i], w.support(i));
        float[] want = new float[N * K];
        for (int i = 0; i < N; i++) for (int c = 0; c < K; c++) {
            double s = 0;
            for (int j = 0; j < S; j++) s += (double) values[i * S + j] * dict[support[i][j] * K + c];
            want[i * K + c] = (float) s;
        }
        assertTrue(GemmKernelsTest.relativeError(want, WeightDecoders.decode("w", w)) < 1e-6);
        assertKernelsAgree(FactoredLinearKernel.of("w", w), w);
        DictionaryWeight q = new DictionaryWeight(w.shape(), 1, IntGroupCodec.quantize(Tensor.ofFloats(dict, ATOMS, K), 1, 8, true, 0),
                w.codeValues(), w.codeMask(), S);
        assertKernelsAgree(FactoredLinearKernel.of("q", q), q);
        // a mask row with the wrong number of atoms is refused, not silently misread
        byte[] bad = mask.clone();
        bad[0] ^= 1;
        DictionaryWeight broken = new DictionaryWeight(w.shape(), 1, w.dictionary(), w.codeValues(),
                Tensor.of(DType.U8, new long[] {N, bytesPerRow}, ByteBuffer.wrap(bad)), S);
        assertThrows(IllegalStateException.class, () -> WeightDecoders.decode("broken", broken));
    }

    private static void assertKernelsAgree(FactoredLinearKernel products, dev.tamp.core.encoding.EncodedTensor w) {
        LinearKernel decoded = LinearKernels.prepare("w", w, 1);
        assertFalse(decoded instanceof FactoredLinearKernel, "decode at load is the default");
        assertEquals(decoded.inFeatures(), products.inFeatures());
        assertEquals(decoded.outFeatures(), products.outFeatures());
        float[] x = GemmKernelsTest.rand(new SplittableRandom(7), ROWS * K);
        float[] a = new float[ROWS * N], b = new float[ROWS * N];
        Parallel par = new Parallel(2);
        decoded.forward(x, ROWS, a, par);
        products.forward(x, ROWS, b, par);
        par.close();
        double err = GemmKernelsTest.relativeError(a, b);
        assertTrue(err < 1e-5, "two products vs decoded weight: " + err);
    }
}
