package dev.tamp.runtime.kernels;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Arrays;
import java.util.SplittableRandom;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

/** The hand-built vector exp and lane sum: accuracy against Math.exp, the range edges, and run-to-run identity. */
class VectorMathTest {
    private static final int L = FloatVector.SPECIES_PREFERRED.length();

    private static float[] vexp(float[] x) {
        float[] out = new float[x.length];
        for (int i = 0; i + L <= x.length; i += L) {
            VectorMath.exp(FloatVector.fromArray(FloatVector.SPECIES_PREFERRED, x, i)).intoArray(out, i);
        }
        return out;
    }

    @Test
    void expMatchesMathExpToAFewUlpOverTheWholeRange() {
        int n = L * 20_000;
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = -103f + 191.7f * i / (n - 1); // [-103, 88.7]: includes subnormal results
        float[] got = vexp(x);
        double worstUlp = 0;
        for (int i = 0; i < n; i++) {
            double want = Math.exp(x[i]);
            if (want < Float.MIN_NORMAL) {
                assertEquals(want, got[i], Float.MIN_NORMAL * 1e-3, "subnormal exp(" + x[i] + ")");
                continue;
            }
            worstUlp = Math.max(worstUlp, Math.abs(got[i] - want) / Math.ulp((float) want));
        }
        assertTrue(worstUlp <= 3, "worst error " + worstUlp + " ulp");
    }

    @Test
    void expEdges() {
        float[] x = new float[L * 2];
        Arrays.fill(x, 0f);
        x[0] = Float.NEGATIVE_INFINITY;
        x[1] = Float.POSITIVE_INFINITY;
        x[2] = Float.NaN;
        x[3] = -200f;
        x[4] = 89f;
        x[5] = 88.7f;
        float[] y = vexp(x);
        assertEquals(0f, y[0]);
        assertEquals(Float.POSITIVE_INFINITY, y[1]);
        assertTrue(Float.isNaN(y[2]));
        assertEquals(0f, y[3]);
        assertEquals(Float.POSITIVE_INFINITY, y[4]);
        assertEquals(Math.exp(88.7f), y[5], Math.ulp((float) Math.exp(88.7f)) * 3);
        assertEquals(1f, y[6]);
    }

    @Test
    void laneSumIsPairwiseInAFixedOrder() {
        float[] v = new float[L];
        SplittableRandom r = new SplittableRandom(3);
        for (int i = 0; i < L; i++) v[i] = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(8)));
        float[] t = v.clone();
        for (int half = L / 2; half >= 1; half /= 2) for (int i = 0; i < half; i++) t[i] += t[i + half];
        assertEquals(Float.floatToIntBits(t[0]), Float.floatToIntBits(VectorMath.sum(FloatVector.fromArray(FloatVector.SPECIES_PREFERRED, v, 0))));
    }

    /**
     * The first calls run interpreted, the later ones C2-compiled: a kernel whose result depends on which
     * (reduceLanes order, SVML exp) changes bits part-way through this loop.
     */
    @Test
    void softmaxGemmAndGeluGiveIdenticalBitsBeforeAndAfterJitCompilation() {
        SplittableRandom r = new SplittableRandom(11);
        int rows = 4, n = 61, k = 77;
        float[] logits = GemmKernelsTest.rand(r, rows * n), x = GemmKernelsTest.rand(r, rows * k), w = GemmKernelsTest.rand(r, n * k);
        for (int i = 0; i < logits.length; i++) logits[i] *= 9f;
        Parallel par = new Parallel(1);
        float[] firstSoftmax = null, firstGemm = null, firstGelu = null;
        for (int it = 0; it < 3000; it++) {
            float[] s = logits.clone();
            VectorMath.softmaxRows(s, n, 0, rows);
            float[] g = new float[rows * n];
            VectorGemm.gemm(x, w, g, rows, n, k, par);
            float[] e = new float[logits.length];
            VectorMath.gelu(logits, e, 0, logits.length);
            if (firstSoftmax == null) {
                firstSoftmax = s;
                firstGemm = g;
                firstGelu = e;
            } else if (!Arrays.equals(firstSoftmax, s) || !Arrays.equals(firstGemm, g) || !Arrays.equals(firstGelu, e)) {
                fail("kernel output changed at iteration " + it);
            }
        }
        par.close();
    }
}
