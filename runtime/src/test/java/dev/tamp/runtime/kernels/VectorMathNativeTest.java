package dev.tamp.runtime.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.tamp.nativekernels.NativeKernels;
import java.time.Duration;
import java.util.SplittableRandom;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The native row operations (AVX-512) against their Java Vector API reference, to the bit: GELU, softmax (with masked
 * −∞ entries and rows of every tail length), layer normalisation (with and without bias, a large mean) and attention's
 * NN product, on ragged shapes; inputs reach exp's clamps (±100) and erf's both signs and zero.
 */
class VectorMathNativeTest {
    private static final int[] LENGTHS = {1, 7, 15, 16, 17, 40, 100, 384};

    @BeforeEach
    void onlyWhereTheyRun() {
        NativeGroupedKernelTest.requireNative();
        assumeTrue(NativeKernels.rowOps() && FloatVector.SPECIES_PREFERRED.length() == 16, "row ops are AVX-512's, at 16 lanes");
    }

    private static float[] values(int len, long seed, float scale) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[len];
        for (int i = 0; i < len; i++) v[i] = (float) r.nextGaussian() * scale;
        if (len > 3) {
            v[0] = 0f;
            v[1] = -0f;
            v[2] = len % 2 == 0 ? 100f : -100f;
        }
        return v;
    }

    @Test
    void geluIsTheJavaKernels() {
        for (int len : LENGTHS) {
            for (float scale : new float[] {1f, 6f}) {
                float[] x = values(len * 3, len, scale), a = new float[x.length], b = new float[x.length];
                VectorMath.geluJava(x, a, len, x.length); // an offset start, as a thread's share
                NativeKernels.gelu(x, b, len, x.length);
                assertArrayEquals(a, b, "GELU length " + len + " scale " + scale);
                float[] c = x.clone();
                NativeKernels.gelu(c, c, 0, c.length); // in place, as the op runs it
                VectorMath.geluJava(x, a, 0, x.length);
                assertArrayEquals(a, c, "GELU in place, length " + len);
            }
        }
        // one array passed twice must still leave no critical region open: a leaked one stalls the next GC for good
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            System.gc();
            float[] x = values(64, 1, 1f);
            NativeKernels.gelu(x, x, 0, x.length);
        }, "a GC after in-place GELU");
    }

    @Test
    void softmaxIsTheJavaKernels() {
        for (int n : LENGTHS) {
            int rows = 5;
            float[] x = values(rows * n, 31L * n, 4f);
            for (int j = 0; j < n; j += 3) x[n + j] = Float.NEGATIVE_INFINITY; // row 1 masked in part
            for (int j = 0; j < n; j++) x[3 * n + j] = Float.NEGATIVE_INFINITY; // row 3 masked whole
            float[] a = x.clone(), b = x.clone();
            VectorMath.softmaxRowsJava(a, n, 1, rows);
            NativeKernels.softmaxRows(b, n, 1, rows);
            assertArrayEquals(a, b, "softmax n " + n);
        }
    }

    @Test
    void layerNormIsTheJavaKernels() {
        for (int d : LENGTHS) {
            int rows = 6;
            float[] x = values(rows * d, 7L * d, 3f);
            for (int j = 0; j < d; j++) x[2 * d + j] += 1000f; // |mean| ≫ std
            float[] scale = values(d, d + 1, 1f), bias = values(d, d + 2, 1f);
            for (float[] bs : new float[][] {bias, null}) {
                float[] a = new float[x.length], b = new float[x.length], ma = new float[rows], mb = new float[rows];
                float[] ia = new float[rows], ib = new float[rows];
                VectorMath.layerNormRowsJava(x, scale, bs, a, d, 1e-12f, 1, rows, ma, ia);
                NativeKernels.layerNormRows(x, scale, bs, b, d, 1e-12f, 1, rows, mb, ib);
                String what = "layer norm d " + d + (bs == null ? " without bias" : "");
                assertArrayEquals(a, b, what);
                assertArrayEquals(ma, mb, what + " means");
                assertArrayEquals(ia, ib, what + " inverse std");
            }
        }
    }

    @Test
    void nnProductIsTheJavaKernels() {
        for (int m : new int[] {1, 3, 4, 9, 40}) {
            for (int n : new int[] {1, 15, 32, 40, 70}) {
                for (int k : new int[] {1, 32, 40}) {
                    float[] a = values(5 + m * k, m + 10L * k, 1f), b = values(3 + k * n, n + 7L * k, 1f);
                    float[] x = new float[2 + m * n], y = new float[2 + m * n];
                    VectorGemm.gemmNNJava(a, 5, b, 3, x, 2, m, n, k);
                    NativeKernels.gemmNN(a, 5, b, 3, y, 2, m, n, k);
                    assertArrayEquals(x, y, "NN " + m + "x" + k + " · " + k + "x" + n);
                }
            }
        }
    }
}
