package dev.tamp.runtime.linalg;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** The prepared inverse-Hessian factor: what it factors, which inputs it repairs, and how damping is raised. */
class HessianInverseTest {
    /** XᵀX for Gaussian X [tokens][k] with the given columns silent. */
    static double[] gram(int k, int tokens, long seed, int... silent) {
        Random r = new Random(seed);
        double[] x = new double[tokens * k];
        for (int i = 0; i < x.length; i++) x[i] = r.nextGaussian();
        for (int t = 0; t < tokens; t++) for (int j : silent) x[t * k + j] = 0;
        double[] g = new double[k * k];
        for (int t = 0; t < tokens; t++) for (int i = 0; i < k; i++) for (int j = 0; j < k; j++) g[i * k + j] += x[t * k + i] * x[t * k + j];
        return g;
    }

    @Test
    void uIsTheUpperFactorOfTheDampedRepairedInverse() {
        int k = 12;
        double[] g = gram(k, 40, 1, 4, 9);
        HessianInverse.Result res = HessianInverse.prepare(g, k, 0.05, 0.05);
        assertFalse(res.failed());
        assertArrayEquals(new int[] {4, 9}, res.deadColumns());
        assertEquals(0.05, res.dampening());
        double[] h = g.clone();
        h[4 * k + 4] = 1;
        h[9 * k + 9] = 1;
        double trace = 0;
        for (int j = 0; j < k; j++) trace += h[j * k + j];
        for (int j = 0; j < k; j++) h[j * k + j] += 0.05 * trace / k;
        double[] u = res.upper();
        // UᵀU·H = I, U upper-triangular with a positive diagonal
        for (int i = 0; i < k; i++) {
            assertTrue(u[i * k + i] > 0);
            for (int j = 0; j < i; j++) assertEquals(0, u[i * k + j], "below the diagonal at " + i + "," + j);
            for (int j = 0; j < k; j++) {
                double s = 0;
                for (int a = 0; a < k; a++) {
                    double uta = 0;
                    for (int b = 0; b < k; b++) uta += u[b * k + i] * u[b * k + a];
                    s += uta * h[a * k + j];
                }
                assertEquals(i == j ? 1 : 0, s, 1e-9, "(UᵀU·H) at " + i + "," + j);
            }
        }
    }

    @Test
    void dampingIsRaisedTenfoldUpToTheCeilingThenUIsTheIdentity() {
        int k = 10;
        double[] g = gram(k, 4, 2); // rank 4: singular without damping
        HessianInverse.Result undamped = HessianInverse.prepare(g, k, 0, 1);
        assertFalse(undamped.failed());
        assertEquals(0.01, undamped.dampening());
        assertTrue(HessianInverse.prepare(g, k, 0, 0).failed(), "a ceiling equal to λ means one try");

        double[] shifted = g.clone();
        double trace = 0;
        for (int j = 0; j < k; j++) trace += g[j * k + j];
        for (int j = 0; j < k; j++) shifted[j * k + j] -= 0.3 * trace / k; // eigenvalue −0.3·mean(diag G) = −0.43·mean(diag shifted)
        HessianInverse.Result res = HessianInverse.prepare(shifted, k, 0.01, 1);
        assertFalse(res.failed());
        assertEquals(1.0, res.dampening(), 1e-12);

        double[] negative = g.clone();
        for (int i = 0; i < negative.length; i++) negative[i] = -negative[i];
        HessianInverse.Result failed = HessianInverse.prepare(negative, k, 0.01, 1);
        assertTrue(failed.failed());
        assertEquals(1.0, failed.dampening(), 1e-12);
        for (int i = 0; i < k; i++) for (int j = 0; j < k; j++) assertEquals(i == j ? 1 : 0, failed.upper()[i * k + j]);
        assertThrows(IllegalArgumentException.class, () -> HessianInverse.prepare(g, k + 1, 0.01, 1));
    }
}
