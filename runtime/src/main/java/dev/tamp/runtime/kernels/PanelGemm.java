package dev.tamp.runtime.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * FP32 GEMM out[M][N] = x[M][K] · Wᵀ for many rows, with W packed once into column panels: panel q holds
 * columns [qP, qP+P) as [K][P] (P = two vectors; the last panel zero-padded). The micro-kernel keeps 6 rows × 2
 * vectors of outputs in 12 accumulators over the whole of K, loading two contiguous vectors of the panel and
 * broadcasting six elements of x per step: 12 FMAs per 2 loads, and 15 live registers, which fits AVX2's 16
 * (the 4×4 dot-product form of {@link VectorGemm} needs 21 and spills there). Each output is one fused
 * multiply-add chain over k in order: deterministic, independent of threads.
 */
public final class PanelGemm {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** Panel width in floats. */
    public static final int P = 2 * S.length();
    private static final int MR = 6;
    /** Rows per cache tile: x rows reused across every panel while they stay in L2. */
    private static final int ROW_TILE = 48;

    private PanelGemm() {}

    /** Packs W given as [N][K] into ⌈N/P⌉ panels of [K][P]. */
    public static float[] pack(float[] w, int n, int k) {
        int panels = (n + P - 1) / P;
        float[] packed = new float[Math.multiplyExact(panels * P, k)];
        for (int q = 0; q < panels; q++) {
            int base = q * k * P;
            for (int c = 0; c < P && q * P + c < n; c++) {
                int row = (q * P + c) * k;
                for (int p = 0; p < k; p++) packed[base + p * P + c] = w[row + p];
            }
        }
        return packed;
    }

    public static void gemm(float[] x, float[] packed, float[] out, int m, int n, int k, Parallel par) {
        int panels = (n + P - 1) / P;
        if (m >= 2 * ROW_TILE || panels < 2) {
            par.forRange(m, MR, (from, to) -> tiles(x, packed, out, from, to, 0, panels, n, k));
        } else {
            par.forRange(panels, 1, (from, to) -> tiles(x, packed, out, 0, m, from, to, n, k));
        }
    }

    private static void tiles(float[] x, float[] packed, float[] out, int m0, int m1, int q0, int q1, int n, int k) {
        float[] edge = new float[MR * P];
        for (int mt = m0; mt < m1; mt += ROW_TILE) {
            int me = Math.min(m1, mt + ROW_TILE);
            for (int q = q0; q < q1; q++) {
                int i = mt;
                for (; i + MR <= me; i += MR) rows6(x, packed, out, i, q, n, k, edge);
                for (; i < me; i++) row1(x, packed, out, i, q, n, k, edge);
            }
        }
    }

    private static void rows6(float[] x, float[] w, float[] out, int i, int q, int n, int k, float[] edge) {
        int len = S.length();
        FloatVector c00 = FloatVector.zero(S), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
        FloatVector c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
        int a0 = i * k, a1 = a0 + k, a2 = a1 + k, a3 = a2 + k, a4 = a3 + k, a5 = a4 + k;
        for (int p = 0, b = q * k * P; p < k; p++, b += P) {
            FloatVector b0 = FloatVector.fromArray(S, w, b), b1 = FloatVector.fromArray(S, w, b + len);
            FloatVector v = FloatVector.broadcast(S, x[a0 + p]);
            c00 = v.fma(b0, c00); c01 = v.fma(b1, c01);
            v = FloatVector.broadcast(S, x[a1 + p]);
            c10 = v.fma(b0, c10); c11 = v.fma(b1, c11);
            v = FloatVector.broadcast(S, x[a2 + p]);
            c20 = v.fma(b0, c20); c21 = v.fma(b1, c21);
            v = FloatVector.broadcast(S, x[a3 + p]);
            c30 = v.fma(b0, c30); c31 = v.fma(b1, c31);
            v = FloatVector.broadcast(S, x[a4 + p]);
            c40 = v.fma(b0, c40); c41 = v.fma(b1, c41);
            v = FloatVector.broadcast(S, x[a5 + p]);
            c50 = v.fma(b0, c50); c51 = v.fma(b1, c51);
        }
        int j = q * P;
        boolean full = j + P <= n;
        float[] dst = full ? out : edge;
        int o = full ? i * n + j : 0, ld = full ? n : P;
        c00.intoArray(dst, o); c01.intoArray(dst, o + len);
        c10.intoArray(dst, o + ld); c11.intoArray(dst, o + ld + len);
        c20.intoArray(dst, o + 2 * ld); c21.intoArray(dst, o + 2 * ld + len);
        c30.intoArray(dst, o + 3 * ld); c31.intoArray(dst, o + 3 * ld + len);
        c40.intoArray(dst, o + 4 * ld); c41.intoArray(dst, o + 4 * ld + len);
        c50.intoArray(dst, o + 5 * ld); c51.intoArray(dst, o + 5 * ld + len);
        if (!full) for (int r = 0; r < MR; r++) System.arraycopy(edge, r * P, out, (i + r) * n + j, n - j);
    }

    private static void row1(float[] x, float[] w, float[] out, int i, int q, int n, int k, float[] edge) {
        int len = S.length();
        FloatVector c0 = FloatVector.zero(S), c1 = c0;
        int a = i * k;
        for (int p = 0, b = q * k * P; p < k; p++, b += P) {
            FloatVector v = FloatVector.broadcast(S, x[a + p]);
            c0 = v.fma(FloatVector.fromArray(S, w, b), c0);
            c1 = v.fma(FloatVector.fromArray(S, w, b + len), c1);
        }
        int j = q * P;
        if (j + P <= n) {
            c0.intoArray(out, i * n + j);
            c1.intoArray(out, i * n + j + len);
        } else {
            c0.intoArray(edge, 0);
            c1.intoArray(edge, len);
            System.arraycopy(edge, 0, out, i * n + j, n - j);
        }
    }
}
