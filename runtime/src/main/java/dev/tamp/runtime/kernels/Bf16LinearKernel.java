package dev.tamp.runtime.kernels;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.ShortBuffer;

/**
 * A BF16 weight [N][K] used where it lies — usually the memory-mapped checkpoint — instead of an F32 copy of twice
 * its size (a 1.1B-parameter BF16 model: 2.2 GB mapped rather than 4.4 GB of heap). Output features are taken in
 * chunks: a chunk's rows are widened to F32 in a small per-call buffer (exact: BF16 is the top half of an F32) and
 * multiplied by the F32 kernels the dense path picks for the batch size (dot products, panels, OpenBLAS), so below
 * OpenBLAS's batch sizes every output is the F32 kernel's to the bit (tested). Up to {@link #NATIVE_MAX_ROWS} rows the
 * native kernels (where built) run the GEMV straight from the BF16 bytes instead, in their own summation order.
 */
public final class Bf16LinearKernel implements LinearKernel {
    /** Output features widened at a time: a multiple of the GEMM tiles, small enough to stay in cache at K ≤ 16k. */
    static final int CHUNK = 64;

    /**
     * Output features widened at a time for OpenBLAS batches: wide enough that its packing of the activations (rows × K,
     * once per call) is paid over many weight rows. Measured on 8192 × 2048 · 2048 × 5632 (2 threads): 64-row chunks 15
     * GFLOP/s, 512 rows 89, 1024 rows 122, OpenBLAS on the whole widened matrix 130; 1024 × K floats a thread.
     */
    static final int BLAS_CHUNK = 1024;

    /** Activation rows up to which the native GEMV runs (decode); past it the widened chunks feed the F32 GEMMs. */
    static final int NATIVE_MAX_ROWS = 4;

    private final ShortBuffer w;
    private final ByteBuffer direct; // the same bytes for the native GEMV (mapped or direct), else null
    private final dev.tamp.nativekernels.NativeKernels.Isa isa;
    private final int n;
    private final int k;

    /** @param bf16 [n][k] little-endian BF16 values */
    public Bf16LinearKernel(ByteBuffer bf16, int n, int k) {
        this(bf16, n, k, dev.tamp.nativekernels.NativeKernels.isa());
    }

    /** @param isa the native variant for few rows, or null for the Java path only */
    Bf16LinearKernel(ByteBuffer bf16, int n, int k, dev.tamp.nativekernels.NativeKernels.Isa isa) {
        if (bf16.remaining() != 2L * n * k) throw new IllegalArgumentException("BF16 weight of " + bf16.remaining() + " bytes is not " + n + "x" + k);
        this.w = bf16.duplicate().order(ByteOrder.LITTLE_ENDIAN).asShortBuffer();
        this.direct = bf16.isDirect() && isa != null ? bf16.slice() : null;
        this.isa = isa;
        this.n = n;
        this.k = k;
    }

    @Override public int inFeatures() { return k; }

    @Override public int outFeatures() { return n; }

    @Override
    public void forward(float[] x, int rows, float[] out, Parallel parallel) {
        if (direct != null && rows <= NATIVE_MAX_ROWS) {
            // native: 20+ GB/s of BF16 a thread against ~3 for widening into a buffer and the Java dot products
            parallel.forRange(n, 64, (r0, r1) -> dev.tamp.nativekernels.NativeKernels.gemvBf16(isa, direct, 0, n, k, x, rows, out, r0, r1));
            return;
        }
        if (rows >= DenseLinearKernel.BLAS_MIN_ROWS && OpenBlas.available()) {
            blasForward(x, rows, out, parallel);
            return;
        }
        parallel.forRange((n + CHUNK - 1) / CHUNK, 1, (c0, c1) -> {
            float[] wc = new float[CHUNK * k], tmp = new float[rows * CHUNK];
            short[] raw = new short[k];
            for (int c = c0; c < c1; c++) {
                int j0 = c * CHUNK, cn = Math.min(CHUNK, n - j0);
                for (int j = 0; j < cn; j++) widen(j0 + j, raw, wc, j * k);
                if (rows >= DenseLinearKernel.PANEL_MIN_ROWS) PanelGemm.gemm(x, PanelGemm.pack(wc, cn, k), tmp, rows, cn, k, parallel);
                else VectorGemm.gemm(x, wc, tmp, rows, cn, k, parallel);
                for (int r = 0; r < rows; r++) System.arraycopy(tmp, r * cn, out, r * n + j0, cn);
            }
        });
    }

    /**
     * OpenBLAS batches: the activation rows split across the pool as {@link OpenBlas#gemm} splits them (each thread copies
     * its rows once), and every thread walks the weight in {@link #BLAS_CHUNK}-row chunks, widening each itself (K conversions
     * per weight row against rows × K multiply-adds).
     */
    private void blasForward(float[] x, int rows, float[] out, Parallel parallel) {
        parallel.forRange(rows, 16, (r0, r1) -> {
            int m = r1 - r0, chunk = Math.min(BLAS_CHUNK, n);
            float[] a = r0 == 0 && r1 == rows ? x : java.util.Arrays.copyOfRange(x, r0 * k, r1 * k);
            float[] wc = new float[chunk * k], tmp = new float[m * chunk];
            short[] raw = new short[k];
            for (int j0 = 0; j0 < n; j0 += chunk) {
                int cn = Math.min(chunk, n - j0);
                for (int j = 0; j < cn; j++) widen(j0 + j, raw, wc, j * k);
                OpenBlas.sgemm(a, wc, tmp, m, cn, k);
                for (int r = 0; r < m; r++) System.arraycopy(tmp, r * cn, out, (r0 + r) * n + j0, cn);
            }
        });
    }

    /** Row j of the weight as F32 into dst[off ..]: BF16 bits shifted into the high half. */
    private void widen(int j, short[] raw, float[] dst, int off) {
        w.get(j * k, raw, 0, k);
        for (int i = 0; i < k; i++) dst[off + i] = Float.intBitsToFloat(raw[i] << 16);
    }

    @Override
    public float[] denseWeight() {
        float[] all = new float[n * k];
        short[] raw = new short[k];
        for (int j = 0; j < n; j++) widen(j, raw, all, j * k);
        return all;
    }
}
