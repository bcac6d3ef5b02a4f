package dev.tamp.runtime.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * FP32 GEMM out[M][N] = x[M][K] · W[N][K]ᵀ with the Vector API: each output is a dot product along K (the
 * layout measured fastest here, stack.md §6), computed 4 rows × 4 columns at a time in 16 vector
 * accumulators, over tiles of 64×64 so both operands stay in L2. Rows are split across threads.
 */
public final class VectorGemm {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int TILE = 64;

    private VectorGemm() {}

    public static void gemm(float[] x, float[] w, float[] out, int m, int n, int k, Parallel par) {
        if (m >= 8) {
            par.forRange(m, 4, (from, to) -> tiles(x, w, out, from, to, 0, n, k, n));
        } else {
            // few rows (decode/GEMV): split the output columns instead
            par.forRange(n, 4, (from, to) -> tiles(x, w, out, 0, m, from, to, k, n));
        }
    }

    private static void tiles(float[] x, float[] w, float[] out, int m0, int m1, int n0, int n1, int k, int ldo) {
        for (int mt = m0; mt < m1; mt += TILE) {
            int me = Math.min(m1, mt + TILE);
            for (int nt = n0; nt < n1; nt += TILE) {
                int ne = Math.min(n1, nt + TILE);
                block(x, w, out, mt, me, nt, ne, k, ldo);
            }
        }
    }

    private static void block(float[] x, float[] w, float[] out, int m0, int m1, int n0, int n1, int k, int ldo) {
        int i = m0;
        for (; i + 4 <= m1; i += 4) {
            int j = n0;
            for (; j + 4 <= n1; j += 4) kernel4x4(x, w, out, i, j, k, ldo);
            for (; j < n1; j++) for (int r = 0; r < 4; r++) out[(i + r) * ldo + j] = dot(x, (i + r) * k, w, j * k, k);
        }
        for (; i < m1; i++) {
            int j = n0;
            for (; j + 4 <= n1; j += 4) kernel1x4(x, w, out, i, j, k, ldo);
            for (; j < n1; j++) out[i * ldo + j] = dot(x, i * k, w, j * k, k);
        }
    }

    private static void kernel4x4(float[] x, float[] w, float[] out, int i, int j, int k, int ldo) {
        FloatVector c00 = FloatVector.zero(S), c01 = c00, c02 = c00, c03 = c00;
        FloatVector c10 = c00, c11 = c00, c12 = c00, c13 = c00;
        FloatVector c20 = c00, c21 = c00, c22 = c00, c23 = c00;
        FloatVector c30 = c00, c31 = c00, c32 = c00, c33 = c00;
        int a0 = i * k, a1 = a0 + k, a2 = a1 + k, a3 = a2 + k;
        int b0 = j * k, b1 = b0 + k, b2 = b1 + k, b3 = b2 + k;
        int p = 0, bound = S.loopBound(k);
        for (; p < bound; p += S.length()) {
            FloatVector w0 = FloatVector.fromArray(S, w, b0 + p), w1 = FloatVector.fromArray(S, w, b1 + p);
            FloatVector w2 = FloatVector.fromArray(S, w, b2 + p), w3 = FloatVector.fromArray(S, w, b3 + p);
            FloatVector x0 = FloatVector.fromArray(S, x, a0 + p);
            c00 = x0.fma(w0, c00); c01 = x0.fma(w1, c01); c02 = x0.fma(w2, c02); c03 = x0.fma(w3, c03);
            FloatVector x1 = FloatVector.fromArray(S, x, a1 + p);
            c10 = x1.fma(w0, c10); c11 = x1.fma(w1, c11); c12 = x1.fma(w2, c12); c13 = x1.fma(w3, c13);
            FloatVector x2 = FloatVector.fromArray(S, x, a2 + p);
            c20 = x2.fma(w0, c20); c21 = x2.fma(w1, c21); c22 = x2.fma(w2, c22); c23 = x2.fma(w3, c23);
            FloatVector x3 = FloatVector.fromArray(S, x, a3 + p);
            c30 = x3.fma(w0, c30); c31 = x3.fma(w1, c31); c32 = x3.fma(w2, c32); c33 = x3.fma(w3, c33);
        }
        float[] acc = {
            VectorMath.sum(c00), VectorMath.sum(c01), VectorMath.sum(c02), VectorMath.sum(c03),
            VectorMath.sum(c10), VectorMath.sum(c11), VectorMath.sum(c12), VectorMath.sum(c13),
            VectorMath.sum(c20), VectorMath.sum(c21), VectorMath.sum(c22), VectorMath.sum(c23),
            VectorMath.sum(c30), VectorMath.sum(c31), VectorMath.sum(c32), VectorMath.sum(c33)};
        for (; p < k; p++) {
            for (int r = 0; r < 4; r++) {
                float xv = x[(i + r) * k + p];
                for (int c = 0; c < 4; c++) acc[r * 4 + c] += xv * w[(j + c) * k + p];
            }
        }
        for (int r = 0; r < 4; r++) for (int c = 0; c < 4; c++) out[(i + r) * ldo + j + c] = acc[r * 4 + c];
    }

    private static void kernel1x4(float[] x, float[] w, float[] out, int i, int j, int k, int ldo) {
        FloatVector c0 = FloatVector.zero(S), c1 = c0, c2 = c0, c3 = c0;
        int a = i * k, b0 = j * k, b1 = b0 + k, b2 = b1 + k, b3 = b2 + k;
        int p = 0, bound = S.loopBound(k);
        for (; p < bound; p += S.length()) {
            FloatVector xv = FloatVector.fromArray(S, x, a + p);
            c0 = xv.fma(FloatVector.fromArray(S, w, b0 + p), c0);
            c1 = xv.fma(FloatVector.fromArray(S, w, b1 + p), c1);
            c2 = xv.fma(FloatVector.fromArray(S, w, b2 + p), c2);
            c3 = xv.fma(FloatVector.fromArray(S, w, b3 + p), c3);
        }
        float s0 = VectorMath.sum(c0), s1 = VectorMath.sum(c1);
        float s2 = VectorMath.sum(c2), s3 = VectorMath.sum(c3);
        for (; p < k; p++) {
            float xv = x[a + p];
            s0 += xv * w[b0 + p];
            s1 += xv * w[b1 + p];
            s2 += xv * w[b2 + p];
            s3 += xv * w[b3 + p];
        }
        out[i * ldo + j] = s0;
        out[i * ldo + j + 1] = s1;
        out[i * ldo + j + 2] = s2;
        out[i * ldo + j + 3] = s3;
    }

    /**
     * out[m][n] = a[m][k] · b[k][n] with both operands row-major at the given offsets ("NN" form), no operand
     * transposed or copied. Used for the activation × activation products inside attention. Register-blocked:
     * 4 rows × 2 vectors of columns stay in accumulators over the whole of k, each step loading two vectors of
     * a row of b and broadcasting four elements of a (the row-at-a-time form re-read and re-wrote the output
     * row for every p: two memory operations per FMA).
     */
    public static void gemmNN(float[] a, int aOff, float[] b, int bOff, float[] out, int outOff, int m, int n, int k) {
        if (NATIVE_NN) { // every output the same FMA chain over p, in C: the same bits from the first call (VectorMathNativeTest)
            dev.tamp.nativekernels.NativeKernels.gemmNN(a, aOff, b, bOff, out, outOff, m, n, k);
            return;
        }
        gemmNNJava(a, aOff, b, bOff, out, outOff, m, n, k);
    }

    private static final boolean NATIVE_NN = dev.tamp.nativekernels.NativeKernels.rowOps();

    static void gemmNNJava(float[] a, int aOff, float[] b, int bOff, float[] out, int outOff, int m, int n, int k) {
        int i = 0;
        for (; i + 4 <= m; i += 4) nnRows4(a, aOff + i * k, b, bOff, out, outOff + i * n, n, k);
        for (; i < m; i++) nnRow1(a, aOff + i * k, b, bOff, out, outOff + i * n, n, k);
    }

    private static void nnRows4(float[] a, int a0, float[] b, int bOff, float[] out, int o0, int n, int k) {
        int len = S.length();
        int a1 = a0 + k, a2 = a1 + k, a3 = a2 + k;
        int j = 0;
        for (; j + 2 * len <= n; j += 2 * len) {
            FloatVector c00 = FloatVector.zero(S), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
            for (int p = 0, row = bOff + j; p < k; p++, row += n) {
                FloatVector b0 = FloatVector.fromArray(S, b, row), b1 = FloatVector.fromArray(S, b, row + len);
                FloatVector x = FloatVector.broadcast(S, a[a0 + p]);
                c00 = x.fma(b0, c00); c01 = x.fma(b1, c01);
                x = FloatVector.broadcast(S, a[a1 + p]);
                c10 = x.fma(b0, c10); c11 = x.fma(b1, c11);
                x = FloatVector.broadcast(S, a[a2 + p]);
                c20 = x.fma(b0, c20); c21 = x.fma(b1, c21);
                x = FloatVector.broadcast(S, a[a3 + p]);
                c30 = x.fma(b0, c30); c31 = x.fma(b1, c31);
            }
            c00.intoArray(out, o0 + j); c01.intoArray(out, o0 + j + len);
            c10.intoArray(out, o0 + n + j); c11.intoArray(out, o0 + n + j + len);
            c20.intoArray(out, o0 + 2 * n + j); c21.intoArray(out, o0 + 2 * n + j + len);
            c30.intoArray(out, o0 + 3 * n + j); c31.intoArray(out, o0 + 3 * n + j + len);
        }
        for (; j + len <= n; j += len) {
            FloatVector c0 = FloatVector.zero(S), c1 = c0, c2 = c0, c3 = c0;
            for (int p = 0, row = bOff + j; p < k; p++, row += n) {
                FloatVector bv = FloatVector.fromArray(S, b, row);
                c0 = FloatVector.broadcast(S, a[a0 + p]).fma(bv, c0);
                c1 = FloatVector.broadcast(S, a[a1 + p]).fma(bv, c1);
                c2 = FloatVector.broadcast(S, a[a2 + p]).fma(bv, c2);
                c3 = FloatVector.broadcast(S, a[a3 + p]).fma(bv, c3);
            }
            c0.intoArray(out, o0 + j); c1.intoArray(out, o0 + n + j);
            c2.intoArray(out, o0 + 2 * n + j); c3.intoArray(out, o0 + 3 * n + j);
        }
        for (; j < n; j++) {
            for (int r = 0; r < 4; r++) out[o0 + r * n + j] = nnDot(a, a0 + r * k, b, bOff + j, n, k);
        }
    }

    private static void nnRow1(float[] a, int a0, float[] b, int bOff, float[] out, int o0, int n, int k) {
        int len = S.length();
        int j = 0;
        for (; j + len <= n; j += len) {
            FloatVector c = FloatVector.zero(S);
            for (int p = 0, row = bOff + j; p < k; p++, row += n) c = FloatVector.broadcast(S, a[a0 + p]).fma(FloatVector.fromArray(S, b, row), c);
            c.intoArray(out, o0 + j);
        }
        for (; j < n; j++) out[o0 + j] = nnDot(a, a0, b, bOff + j, n, k);
    }

    /** Σ_p a[a0 + p] · b[b0 + p·n], in the same order (fused multiply-adds) as the vector lanes. */
    private static float nnDot(float[] a, int a0, float[] b, int b0, int n, int k) {
        float s = 0;
        for (int p = 0; p < k; p++) s = Math.fma(a[a0 + p], b[b0 + p * n], s);
        return s;
    }

    /** Vectorised dot product of x[xo..xo+k) and w[wo..wo+k). */
    public static float dot(float[] x, int xo, float[] w, int wo, int k) {
        FloatVector acc = FloatVector.zero(S);
        int p = 0, bound = S.loopBound(k);
        for (; p < bound; p += S.length()) acc = FloatVector.fromArray(S, x, xo + p).fma(FloatVector.fromArray(S, w, wo + p), acc);
        float s = VectorMath.sum(acc);
        for (; p < k; p++) s += x[xo + p] * w[wo + p];
        return s;
    }
}
