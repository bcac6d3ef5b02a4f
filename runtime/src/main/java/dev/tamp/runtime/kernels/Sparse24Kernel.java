package dev.tamp.runtime.kernels;

import dev.tamp.core.encoding.Sparse24Weight;
import dev.tamp.formats.codec.Sparse24Codec;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * A 2:4-sparse weight applied through its kept values only (formats.md §5.2): half the multiply-adds of the dense
 * product, the pruned zeros never touched. The weight is held as its kept values (decoded to float once, whatever
 * their encoding) and the absolute K column of each.
 * <ul>
 *   <li>Many activation rows: the activations are copied once into tiles of T rows, each transposed to [K][T], so
 *       for one kept weight w at column c the contribution to a tile's T outputs is a broadcast multiply-add of w
 *       over the contiguous slice tile[c][0 .. T) — no gathers in the inner loop, and one tile (K·T floats) stays
 *       in cache while a block of weight rows sweeps over it.</li>
 *   <li>Few rows (decode, GEMV): per output a scalar gather dot product over the kept values.</li>
 * </ul>
 * Every output element is one fused multiply-add chain over the kept values in increasing column order (vector
 * lanes and the scalar tail alike), computed by one thread: results are deterministic.
 */
public final class Sparse24Kernel implements LinearKernel {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** Output rows of one vector tile: four vectors of accumulators. */
    private static final int TILE_M = 4 * S.length();
    /** Columns of K per pass over a tile: their slice of the packed tile (16 KiB) stays in L1. */
    private static final int CHUNK_K = Math.max(4, 4096 / TILE_M / 4 * 4);
    /** Weight rows per cache block. */
    private static final int BLOCK_N = 32;
    /** Rows from which the transposed vector path beats per-row gathers. */
    static final int VECTOR_MIN_ROWS = 8;

    private final float[] values; // [n][k/2]
    private final int[] cols;     // [n][k/2], absolute K column of each value
    private final int n;
    private final int k;

    /**
     * @param kept  the kept values [n][k/2], increasing column order within each row
     * @param cols  their absolute columns, same layout
     */
    public Sparse24Kernel(float[] kept, int[] cols, int n, int k) {
        if (k % 4 != 0 || kept.length != (long) n * (k / 2) || cols.length != kept.length) {
            throw new IllegalArgumentException("2:4 kernel needs [" + n + "][" + k / 2 + "] values and columns");
        }
        this.values = kept;
        this.cols = cols;
        this.n = n;
        this.k = k;
    }

    /** Prepares a 2:4 weight; its values may be in any encoding {@link WeightDecoders} can decode. */
    public static Sparse24Kernel of(String name, Sparse24Weight w) {
        int n = Math.toIntExact(w.rows()), k = Math.toIntExact(w.cols());
        float[] kept = WeightDecoders.decode(name + "#values", w.values());
        if (kept.length != (long) n * (k / 2)) {
            throw new dev.tamp.core.error.BadInputException("weight " + name + ": 2:4 values hold " + kept.length + " floats, not " + n + "x" + k / 2);
        }
        return new Sparse24Kernel(kept, Sparse24Codec.columns(w.indices(), n, k), n, k);
    }

    @Override public int inFeatures() { return k; }

    @Override public int outFeatures() { return n; }

    @Override
    public void forward(float[] x, int rows, float[] out, Parallel parallel) {
        if (rows < VECTOR_MIN_ROWS) {
            parallel.forRange(n, 16, (from, to) -> gatherRows(x, 0, rows, from, to, out));
            return;
        }
        int tiles = (rows + TILE_M - 1) / TILE_M, tileFloats = k * TILE_M;
        // Tile-major transposed copy: xp[t][p][l] = x[t·T + l][p], rows past the end zero.
        float[] xp = new float[tiles * tileFloats];
        for (int m = 0; m < rows; m++) {
            int t = m / TILE_M, l = m % TILE_M, xo = m * k, base = t * tileFloats + l;
            for (int p = 0; p < k; p++) xp[base + p * TILE_M] = x[xo + p];
        }
        parallel.forRange(n, BLOCK_N, (from, to) -> {
            float[] acc = new float[BLOCK_N * TILE_M];
            for (int j0 = from; j0 < to; j0 += BLOCK_N) {
                int j1 = Math.min(to, j0 + BLOCK_N);
                for (int t = 0; t < tiles; t++) {
                    int m0 = t * TILE_M, valid = Math.min(TILE_M, rows - m0);
                    for (int c0 = 0; c0 < k; c0 += CHUNK_K) {
                        int c1 = Math.min(k, c0 + CHUNK_K);
                        for (int j = j0; j < j1; j++) tile(xp, t * tileFloats, j, c0 / 2, c1 / 2, c0 == 0, acc, (j - j0) * TILE_M);
                    }
                    for (int j = j0; j < j1; j++) {
                        int a = (j - j0) * TILE_M;
                        for (int l = 0; l < valid; l++) out[(m0 + l) * n + j] = acc[a + l];
                    }
                }
            }
        });
    }

    /**
     * acc[a .. a+T) (+)= the kept values i0 ≤ i &lt; i1 of row j times the packed tile at xp[at ..]; a chunk of K keeps
     * the tile slice it reads (CHUNK_K·T floats) in L1.
     */
    private void tile(float[] xp, int at, int j, int i0, int i1, boolean first, float[] acc, int a) {
        int vl = S.length();
        FloatVector a0, a1, a2, a3;
        if (first) {
            a0 = FloatVector.zero(S);
            a1 = a0;
            a2 = a0;
            a3 = a0;
        } else {
            a0 = FloatVector.fromArray(S, acc, a);
            a1 = FloatVector.fromArray(S, acc, a + vl);
            a2 = FloatVector.fromArray(S, acc, a + 2 * vl);
            a3 = FloatVector.fromArray(S, acc, a + 3 * vl);
        }
        int base = j * (k / 2);
        for (int i = base + i0, end = base + i1; i < end; i++) {
            FloatVector w = FloatVector.broadcast(S, values[i]);
            int c = at + cols[i] * TILE_M;
            a0 = FloatVector.fromArray(S, xp, c).fma(w, a0);
            a1 = FloatVector.fromArray(S, xp, c + vl).fma(w, a1);
            a2 = FloatVector.fromArray(S, xp, c + 2 * vl).fma(w, a2);
            a3 = FloatVector.fromArray(S, xp, c + 3 * vl).fma(w, a3);
        }
        a0.intoArray(acc, a);
        a1.intoArray(acc, a + vl);
        a2.intoArray(acc, a + 2 * vl);
        a3.intoArray(acc, a + 3 * vl);
    }

    /** Rows [m0, m1) × outputs [j0, j1) by gathering x at the kept columns; four outputs at a time as independent chains. */
    private void gatherRows(float[] x, int m0, int m1, int j0, int j1, float[] out) {
        int half = k / 2;
        for (int m = m0; m < m1; m++) {
            int xo = m * k, j = j0;
            for (; j + 4 <= j1; j += 4) {
                int b0 = j * half, b1 = b0 + half, b2 = b1 + half, b3 = b2 + half;
                float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
                for (int i = 0; i < half; i++) {
                    s0 = Math.fma(x[xo + cols[b0 + i]], values[b0 + i], s0);
                    s1 = Math.fma(x[xo + cols[b1 + i]], values[b1 + i], s1);
                    s2 = Math.fma(x[xo + cols[b2 + i]], values[b2 + i], s2);
                    s3 = Math.fma(x[xo + cols[b3 + i]], values[b3 + i], s3);
                }
                out[m * n + j] = s0;
                out[m * n + j + 1] = s1;
                out[m * n + j + 2] = s2;
                out[m * n + j + 3] = s3;
            }
            for (; j < j1; j++) {
                int base = j * half;
                float s = 0;
                for (int i = 0; i < half; i++) s = Math.fma(x[xo + cols[base + i]], values[base + i], s);
                out[m * n + j] = s;
            }
        }
    }

    @Override
    public float[] denseWeight() {
        float[] w = new float[n * k];
        int half = k / 2;
        for (int j = 0; j < n; j++) for (int i = 0; i < half; i++) w[j * k + cols[j * half + i]] = values[j * half + i];
        return w;
    }
}
