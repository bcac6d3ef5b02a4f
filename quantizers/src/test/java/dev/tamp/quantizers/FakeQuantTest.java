package dev.tamp.quantizers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.tamp.core.error.BadInputException;
import dev.tamp.formats.codec.IntGroupCodec;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** FakeQuant decodes, bit for bit, what the shipping codec stores (k = 200 also leaves lanes over in every group). */
class FakeQuantTest {
    @Test
    void equalsTheCodecsDecodeForEveryGridAndGroup() {
        int n = 37, k = 200;
        Random rnd = new Random(3);
        float[] w = new float[n * k];
        for (int i = 0; i < w.length; i++) w[i] = (float) (rnd.nextGaussian() * Math.exp(rnd.nextGaussian()));
        for (int j = 0; j < 64; j++) w[2 * k + j] = 0.5f + j * 1e-3f; // a one-signed group
        for (int j = 0; j < k; j++) w[5 * k + j] = 0; // an all-zero row
        for (int j = 0; j < k; j++) w[7 * k + j] = (j % 31) * 0.5f; // 4-bit asymmetric: Δ = 1, every other value a tie
        for (int bits : new int[] {4, 8}) {
            for (boolean sym : new boolean[] {false, true}) {
                for (int group : new int[] {0, 32, 64, 128, 300}) { // 128 leaves a short last group; 300 > k is per row
                    float[] viaCodec = IntGroupCodec.dequantize(FakeQuant.encode(w, n, k, bits, sym, group));
                    float[] direct = FakeQuant.apply(w, n, k, bits, sym, group);
                    for (int i = 0; i < w.length; i++) {
                        assertEquals(Float.floatToRawIntBits(viaCodec[i]), Float.floatToRawIntBits(direct[i]),
                                bits + " bits sym=" + sym + " group " + group + " at " + i + ": " + viaCodec[i] + " vs " + direct[i]);
                    }
                }
            }
        }
    }

    @Test
    void reportsTheLowestNonFiniteRowAsTheCodecDoes() {
        int n = 64, k = 40;
        float[] w = new float[n * k];
        w[50 * k + 3] = Float.POSITIVE_INFINITY;
        w[9 * k + 17] = Float.NaN;
        BadInputException codec = assertThrows(BadInputException.class, () -> FakeQuant.encode(w, n, k, 4, false, 16));
        BadInputException direct = assertThrows(BadInputException.class, () -> FakeQuant.apply(w, n, k, 4, false, 16));
        assertEquals("row 9: non-finite value NaN at index 17", direct.getMessage());
        assertEquals(codec.getMessage(), direct.getMessage());
    }
}
