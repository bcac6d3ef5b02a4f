package dev.tamp.runtime.linalg;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tamp.runtime.linalg.Linalg.Backend;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Both paths of the form agree with ‖X·δᵀ‖² computed on the tokens in float64, whatever shape G has. */
class QuadraticFormTest {
    /** XᵀX [k][k] in float64 of `tokens` Gaussian rows whose listed channels are always 0. */
    static double[] gram(int tokens, int k, long seed, int... dead) {
        Random r = new Random(seed);
        double[] x = new double[tokens * k];
        for (int i = 0; i < x.length; i++) x[i] = r.nextGaussian() * (1 + (i % k) % 7);
        for (int t = 0; t < tokens; t++) for (int d : dead) x[t * k + d] = 0;
        double[] g = new double[k * k];
        for (int t = 0; t < tokens; t++) {
            for (int i = 0; i < k; i++) {
                double xi = x[t * k + i];
                for (int j = 0; j < k; j++) g[i * k + j] += xi * x[t * k + j];
            }
        }
        return g;
    }

    static float[] gaussian(int n, long seed) {
        Random r = new Random(seed);
        float[] d = new float[n];
        for (int i = 0; i < d.length; i++) d[i] = (float) (r.nextGaussian() * 0.01);
        return d;
    }

    /** δ_r·G·δ_rᵀ per row in float64, on G's block [from, from + len) scaled by 1/(s_i s_j). */
    static double[] reference(float[] delta, int n, double[] g, int ld, int from, int len, float[] s) {
        double[] out = new double[n];
        for (int r = 0; r < n; r++) {
            double v = 0;
            for (int i = 0; i < len; i++) {
                for (int j = 0; j < len; j++) {
                    double gij = g[(from + i) * ld + from + j];
                    if (s != null) gij /= (double) s[from + i] * s[from + j];
                    v += delta[r * len + i] * gij * delta[r * len + j];
                }
            }
            out[r] = v;
        }
        return out;
    }

    private static void agree(String what, double[] g, int ld, int from, int len, float[] s, int n, boolean expectFactored) {
        float[] delta = gaussian(n * len, 11 + len);
        double[] ref = reference(delta, n, g, ld, from, len, s);
        double refSum = 0;
        for (double v : ref) refSum += v;
        for (Backend b : new Backend[] {Backend.LAPACK, Backend.JAVA}) {
            try (QuadraticForm f = QuadraticForm.of(g, ld, from, len, s, b)) {
                assertEquals(len, f.dim());
                if (b == Backend.LAPACK) assertEquals(expectFactored, f.factored(), what + ": factored");
                else assertFalse(f.factored());
                double[] rows = f.perRow(delta, n);
                for (int r = 0; r < n; r++) assertEquals(ref[r], rows[r], 1e-4 * ref[r], what + " " + b + " row " + r);
                assertEquals(refSum, f.sum(delta, n), 1e-4 * refSum, what + " " + b + " sum");
            }
        }
    }

    @Test void fullRankGramIsFactoredAndAgrees() {
        // more rows than one panel, and a last panel that is not full
        agree("full rank", gram(200, 96, 1), 96, 0, 96, null, QuadraticForm.PANEL + 37, true);
    }

    @Test void deadChannelsAreDroppedBeforeFactoring() {
        agree("dead channels", gram(200, 64, 2, 0, 5, 63), 64, 0, 64, null, 50, true);
    }

    @Test void fewerTokensThanChannelsFallsBackToTheGramItself() {
        // rank 20 of 80: a float64 Cholesky breaks down, so the native path multiplies by G
        double[] g = gram(20, 80, 3);
        assertTrue(Linalg.cholesky(new Matrix(80, 80, g.clone()), Backend.LAPACK).isEmpty(), "the test needs a G Cholesky rejects");
        agree("rank deficient", g, 80, 0, 80, null, 40, false);
    }

    @Test void scaledPrincipalBlockAgrees() {
        double[] g = gram(300, 128, 4);
        float[] s = new float[128];
        for (int j = 0; j < s.length; j++) s[j] = 0.5f + (j % 9) * 0.2f;
        agree("scaled block", g, 128, 32, 64, s, 70, true);
    }

    @Test void zeroGramGivesZero() {
        for (Backend b : new Backend[] {Backend.LAPACK, Backend.JAVA}) {
            try (QuadraticForm f = QuadraticForm.of(new double[16], 4, 0, 4, null, b)) {
                assertEquals(0.0, f.sum(gaussian(12, 5), 3));
            }
        }
    }

    @Test void rowsArePassedPanelByPanel() {
        int k = 16, n = 2 * QuadraticForm.PANEL + 3;
        double[] g = gram(64, k, 6);
        float[] delta = gaussian(n * k, 7);
        try (QuadraticForm f = QuadraticForm.of(g, k, 0, k, null, Backend.LAPACK)) {
            int[] maxRows = {0};
            double viaRows = f.sum((from, to, out) -> {
                synchronized (maxRows) { maxRows[0] = Math.max(maxRows[0], to - from); }
                System.arraycopy(delta, from * k, out, 0, (to - from) * k);
            }, n);
            assertEquals(QuadraticForm.PANEL, maxRows[0]);
            assertEquals(f.sum(delta, n), viaRows);
        }
    }
}
