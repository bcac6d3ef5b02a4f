package dev.tamp.formats.codec;

import static org.junit.jupiter.api.Assertions.*;

import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.encoding.IntGroupedWeight;
import dev.tamp.core.encoding.Sparse24Weight;
import dev.tamp.core.error.BadInputException;
import dev.tamp.core.tensor.Tensor;
import java.nio.ByteBuffer;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The 2:4 canonical form: PTX nibbles, exact round trip, the 2-of-4 invariant, and refusals of malformed planes. */
class Sparse24CodecTest {
    /** A random [n][k] matrix with exactly two non-zeros per group of 4 (random positions) and its mask. */
    static float[] sparseRows(SplittableRandom r, int n, int k, boolean[] keep) {
        float[] w = new float[n * k];
        for (int row = 0; row < n; row++) {
            for (int g = 0; g < k / 4; g++) {
                int a = r.nextInt(4), b = (a + 1 + r.nextInt(3)) % 4;
                for (int p : new int[] {a, b}) {
                    int at = row * k + 4 * g + p;
                    w[at] = (float) r.nextGaussian();
                    keep[at] = true;
                }
            }
        }
        return w;
    }

    @Test
    void nibblesAreThePtxMetadataCodes() {
        assertEquals(0x4, Sparse24Codec.nibble(0, 1));
        assertEquals(0x8, Sparse24Codec.nibble(0, 2));
        assertEquals(0xC, Sparse24Codec.nibble(0, 3));
        assertEquals(0x9, Sparse24Codec.nibble(1, 2));
        assertEquals(0xD, Sparse24Codec.nibble(1, 3));
        assertEquals(0xE, Sparse24Codec.nibble(2, 3));
        int legal = 0;
        for (int v = 0; v < 16; v++) if (Sparse24Codec.legal(v)) legal++;
        assertEquals(6, legal);
        // one row, K = 8: group 0 keeps (1, 3) → 0xD in the low nibble, group 1 keeps (0, 2) → 0x8 in the high nibble
        float[] w = {0, 5, 0, 6, 7, 0, 8, 0};
        Sparse24Weight s = Sparse24Codec.fromDense(w, 1, 8, new long[] {1, 8}, 1);
        assertEquals((byte) 0x8D, s.indices().get(0));
        assertArrayEquals(new float[] {5, 6, 7, 8}, ((DenseWeight) s.values()).tensor().toFloatArray());
    }

    @Test
    void roundTripsAndKeepsExactlyTwoOfEveryFour() {
        SplittableRandom r = new SplittableRandom(7);
        for (int[] s : new int[][] {{1, 4}, {3, 12}, {5, 40}, {16, 384}, {7, 1536}}) {
            int n = s[0], k = s[1];
            boolean[] keep = new boolean[n * k];
            float[] w = sparseRows(r, n, k, keep);
            for (int kAxis : new int[] {0, 1}) {
                long[] shape = kAxis == 1 ? new long[] {n, k} : new long[] {k, n};
                Sparse24Weight enc = Sparse24Codec.encode(w, keep, n, k, shape, kAxis);
                assertEquals((long) n * Sparse24Codec.indexRowBytes(k), enc.indices().capacity());
                assertArrayEquals(new long[] {n, k / 2}, enc.values().shape());
                float[] back = Sparse24Codec.decode(enc);
                assertArrayEquals(w, back, n + "x" + k);
                int[] cols = Sparse24Codec.columns(enc.indices(), n, k);
                for (int row = 0; row < n; row++) {
                    for (int g = 0; g < k / 4; g++) {
                        int a = cols[row * k / 2 + 2 * g], b = cols[row * k / 2 + 2 * g + 1];
                        assertTrue(a < b && a >= 4 * g && b < 4 * g + 4, "row " + row + " group " + g + ": " + a + ", " + b);
                        int nz = 0;
                        for (int i = 0; i < 4; i++) if (back[row * k + 4 * g + i] != 0) nz++;
                        assertEquals(2, nz, "row " + row + " group " + g);
                    }
                }
            }
        }
    }

    @Test
    void underFullGroupsNameTwoPositionsAndDecodeToZeros() {
        float[] w = {0, 0, 0, 0, 0, 0, 3, 0, 1, 2, 0, 0};
        Sparse24Weight s = Sparse24Codec.fromDense(w, 1, 12, new long[] {1, 12}, 1);
        int[] cols = Sparse24Codec.columns(s.indices(), 1, 12);
        assertArrayEquals(new int[] {0, 1, 4, 6, 8, 9}, cols, "empty group names (0,1); a single kept 2 pairs with 0");
        assertArrayEquals(w, Sparse24Codec.decode(s));
    }

    @Test
    void quantizedValuesDecodeThroughTheirOwnCodec() {
        SplittableRandom r = new SplittableRandom(3);
        int n = 6, k = 64;
        boolean[] keep = new boolean[n * k];
        float[] w = sparseRows(r, n, k, keep);
        Sparse24Weight f = Sparse24Codec.encode(w, keep, n, k, new long[] {n, k}, 1);
        IntGroupedWeight q = IntGroupCodec.quantize(((DenseWeight) f.values()).tensor(), 1, 8, true, 16);
        Sparse24Weight sq = Sparse24Codec.withValues(f, q);
        float[] back = Sparse24Codec.decode(sq);
        for (int i = 0; i < w.length; i++) {
            if (w[i] == 0) assertEquals(0f, back[i], "pruned positions stay exactly zero");
            else assertEquals(w[i], back[i], 0.02, "int8 value at " + i);
        }
        assertEquals("2:4(int8-sym-g16)", sq.describe());
    }

    @Test
    void refusesWhatIsNot24() {
        BadInputException k30 = assertThrows(BadInputException.class,
                () -> Sparse24Codec.fromDense(new float[60], 2, 30, new long[] {2, 30}, 1));
        assertTrue(k30.getMessage().contains("K = 30"), k30.getMessage());
        BadInputException three = assertThrows(BadInputException.class,
                () -> Sparse24Codec.fromDense(new float[] {1, 1, 1, 0}, 1, 4, new long[] {1, 4}, 1));
        assertTrue(three.getMessage().contains("more than 2"), three.getMessage());
        BadInputException nib = assertThrows(BadInputException.class,
                () -> Sparse24Codec.scatter(new float[4], ByteBuffer.wrap(new byte[] {(byte) 0x35}), 1, 8));
        assertTrue(nib.getMessage().contains("illegal nibble 0x5"), nib.getMessage());
        BadInputException size = assertThrows(BadInputException.class,
                () -> Sparse24Codec.scatter(new float[8], ByteBuffer.wrap(new byte[1]), 2, 8));
        assertTrue(size.getMessage().contains("expected 2"), size.getMessage());
        Sparse24Weight ok = Sparse24Codec.fromDense(new float[] {1, 0, 0, 2}, 1, 4, new long[] {1, 4}, 1);
        assertThrows(IllegalArgumentException.class,
                () -> Sparse24Codec.withValues(ok, new DenseWeight(Tensor.ofFloats(new float[3], 1, 3))));
    }
}
