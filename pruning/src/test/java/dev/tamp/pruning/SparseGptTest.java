package dev.tamp.pruning;

import dev.tamp.quantizers.LayerOutputError;
import static org.junit.jupiter.api.Assertions.*;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** SparseGPT and the mask rules on small matrices with known answers. */
class SparseGptTest {
    static int keptIn(boolean[] keep, int from, int m) {
        int c = 0;
        for (int i = 0; i < m; i++) if (keep[from + i]) c++;
        return c;
    }

    @Test
    void masksKeepTheNLargestWithTiesToTheLowerColumn() {
        double[] s = {1, 3, 3, 2, 5, 5, 5, 5};
        boolean[] keep = MaskSelection.keepTop(s, 1, 8, NmPattern.TWO_FOUR);
        assertArrayEquals(new boolean[] {false, true, true, false, true, true, false, false}, keep);
        boolean[] one = MaskSelection.keepTop(new double[] {0, 0, 0, 0, 0, 0, 0, 9}, 1, 8, new NmPattern(1, 8));
        assertTrue(one[7] && keptIn(one, 0, 8) == 1);
        // Wanda: a small weight on a loud channel beats a large one on a quiet channel
        boolean[] w = MaskSelection.wanda(new float[] {1f, 0.1f, 0.5f, 0.6f}, 1, 4, new double[] {1, 10000, 1, 1}, NmPattern.TWO_FOUR);
        assertArrayEquals(new boolean[] {true, true, false, false}, w);
    }

    @Test
    void identityHessianIsMagnitudePruning() {
        SplittableRandom r = new SplittableRandom(1);
        int n = 9, k = 24;
        float[] w = new float[n * k];
        for (int i = 0; i < w.length; i++) w[i] = (float) r.nextGaussian();
        double[] gram = new double[k * k];
        for (int j = 0; j < k; j++) gram[j * k + j] = 3.0;
        SparseGpt.Result res = SparseGpt.prune(w, n, k, gram, NmPattern.TWO_FOUR, 0.01, 8);
        boolean[] mag = MaskSelection.magnitude(w, n, k, NmPattern.TWO_FOUR);
        assertArrayEquals(mag, res.keep());
        for (int i = 0; i < w.length; i++) assertEquals(mag[i] ? w[i] : 0f, res.weights()[i], 1e-6, "@" + i);
        assertEquals(0, res.deadColumns());
        assertFalse(res.fellBack());
    }

    @Test
    void obsUpdatesBeatMaskingAloneOnCorrelatedInputsAndHandleDeadInputs() {
        SplittableRandom r = new SplittableRandom(2);
        int n = 16, k = 32, t = 400;
        float[] x = new float[t * k];
        for (int i = 0; i < t; i++) {
            double common = r.nextGaussian();
            for (int j = 0; j < k; j++) x[i * k + j] = j == 5 ? 0f : (float) (0.8 * common + 0.6 * r.nextGaussian() * (1 + j % 3));
        }
        double[] gram = new double[k * k];
        double[] sumSq = new double[k];
        for (int i = 0; i < t; i++) {
            for (int a = 0; a < k; a++) {
                sumSq[a] += (double) x[i * k + a] * x[i * k + a];
                for (int b = 0; b < k; b++) gram[a * k + b] += (double) x[i * k + a] * x[i * k + b];
            }
        }
        float[] w = new float[n * k];
        for (int i = 0; i < w.length; i++) w[i] = (float) r.nextGaussian();
        SparseGpt.Result sg = SparseGpt.prune(w, n, k, gram, NmPattern.TWO_FOUR, 0.01, 16);
        assertEquals(1, sg.deadColumns());
        for (int row = 0; row < n; row++) {
            assertEquals(0f, sg.weights()[row * k + 5], "dead input column zeroed");
            for (int g = 0; g < k; g += 4) assertEquals(2, keptIn(sg.keep(), row * k + g, 4), "row " + row + " group " + g / 4);
        }
        double eSg = LayerOutputError.relative(w, sg.weights(), n, k, gram);
        double eWanda = LayerOutputError.relative(w, LayerPruner.masked(w, MaskSelection.wanda(w, n, k, sumSq, NmPattern.TWO_FOUR), null).weights(), n, k, gram);
        double eMag = LayerOutputError.relative(w, LayerPruner.masked(w, MaskSelection.magnitude(w, n, k, NmPattern.TWO_FOUR), null).weights(), n, k, gram);
        System.err.printf("correlated inputs, 2:4 output error: SparseGPT %.4f, Wanda %.4f, magnitude %.4f%n", eSg, eWanda, eMag);
        assertTrue(eSg < eWanda && eSg < eMag, "SparseGPT " + eSg + " vs Wanda " + eWanda + ", magnitude " + eMag);
    }

    @Test
    void patternsParseOrAreRefused() {
        assertEquals(new NmPattern(2, 4), NmPattern.parse("2:4"));
        assertEquals(new NmPattern(4, 8), NmPattern.parse(" 4:8 "));
        for (String bad : new String[] {"4:2", "2:2", "0:4", "2-4", "a:b", "2:4:8", "", "1:100"}) {
            var e = assertThrows(dev.tamp.core.error.BadInputException.class, () -> NmPattern.parse(bad), bad);
            assertTrue(e.getMessage().contains("--pattern"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> new PruneOptions(PruneMethod.SPARSEGPT, NmPattern.TWO_FOUR, 0.01, 126, 0, 0,
                PruneOptions.Propagation.COMPRESSED, java.util.List.of()), "block size not a multiple of M");
    }
}
