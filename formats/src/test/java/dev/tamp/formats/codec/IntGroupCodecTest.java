package dev.tamp.formats.codec;

import static org.junit.jupiter.api.Assertions.*;

import dev.tamp.core.encoding.IntGroupedWeight;
import dev.tamp.core.error.BadInputException;
import dev.tamp.core.tensor.Tensor;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** RTN groups: error within half a step, zero points in range, short last groups, degenerate rows, orientation. */
class IntGroupCodecTest {
    @Test
    void roundTripErrorIsAtMostHalfAStepPerGroup() {
        SplittableRandom r = new SplittableRandom(12);
        int n = 6, k = 200; // group 128 leaves a 72-wide last group
        float[] w = new float[n * k];
        for (int i = 0; i < w.length; i++) w[i] = (float) (r.nextGaussian() * (1 + i % 7));
        for (int bits : new int[] {4, 8}) {
            for (boolean sym : new boolean[] {true, false}) {
                for (int g : new int[] {32, 64, 128, k}) {
                    IntGroupedWeight q = IntGroupCodec.quantize(Tensor.ofFloats(w, n, k), 1, bits, sym, g);
                    int groups = (k + g - 1) / g;
                    assertArrayEquals(new long[] {n, groups}, q.scales().shape());
                    float[] back = IntGroupCodec.dequantize(q);
                    float[] scales = q.scales().toFloatArray();
                    for (int row = 0; row < n; row++) {
                        for (int i = 0; i < k; i++) {
                            float step = scales[row * groups + i / g];
                            assertTrue(Math.abs(back[row * k + i] - w[row * k + i]) <= step * 0.5 + 1e-6,
                                    "int" + bits + (sym ? "sym" : "asym") + " g" + g + " at " + row + "," + i);
                        }
                        if (!sym) {
                            for (int gi = 0; gi < groups; gi++) {
                                long z = q.zeroPoints().getLong(row * groups + gi);
                                assertTrue(z >= 0 && z <= (1 << bits) - 1, "zero point " + z);
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void constantAndZeroRowsAndTransposedOrientation() {
        float[] w = new float[2 * 64];
        java.util.Arrays.fill(w, 0, 64, 0.75f); // row 0 constant, row 1 all zero
        for (boolean sym : new boolean[] {true, false}) {
            IntGroupedWeight q = IntGroupCodec.quantize(Tensor.ofFloats(w, 2, 64), 1, 4, sym, 32);
            float[] back = IntGroupCodec.dequantize(q);
            for (int i = 0; i < 64; i++) assertEquals(0.75f, back[i], 0.75f / 15 + 1e-6, "constant row, sym " + sym);
            for (int i = 64; i < 128; i++) assertEquals(0f, back[i], 1e-6, "zero row, sym " + sym);
        }
        // [K][N] input (ONNX MatMul) gives the same codes as its [N][K] transpose
        SplittableRandom r = new SplittableRandom(1);
        float[] nk = new float[5 * 40];
        for (int i = 0; i < nk.length; i++) nk[i] = (float) r.nextGaussian();
        float[] kn = new float[nk.length];
        for (int i = 0; i < 5; i++) for (int j = 0; j < 40; j++) kn[j * 5 + i] = nk[i * 40 + j];
        IntGroupedWeight a = IntGroupCodec.quantize(Tensor.ofFloats(nk, 5, 40), 1, 8, false, 16);
        IntGroupedWeight b = IntGroupCodec.quantize(Tensor.ofFloats(kn, 40, 5), 0, 8, false, 16);
        assertEquals(a.codes(), b.codes());
        assertEquals(a.scales(), b.scales());
        BadInputException e = assertThrows(BadInputException.class,
                () -> IntGroupCodec.quantize(Tensor.ofFloats(new float[] {1, 2, 3, 4, 5, Float.NaN}, 3, 2), 1, 8, true, 2));
        assertEquals("row 2: non-finite value NaN at index 1", e.getMessage());
    }
}
