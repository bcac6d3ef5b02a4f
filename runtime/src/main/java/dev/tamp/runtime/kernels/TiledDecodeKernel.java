package dev.tamp.runtime.kernels;

import dev.tamp.core.encoding.IntGroupedWeight;
import dev.tamp.core.encoding.MxWeight;
import dev.tamp.formats.codec.IntGroupCodec;
import dev.tamp.formats.codec.MxBlockCodec;
import dev.tamp.formats.codec.ScaleRule;

/**
 * An encoded weight applied without ever holding it dense: each thread decodes a tile of 32 weight rows into a
 * small float buffer and multiplies all activation rows against it, so only the packed codes (4–8 bits per
 * weight plus scales) stay resident. Decoding costs O(N·K) per call against O(M·N·K) for the product. One
 * kernel serves every row-decodable encoding through {@link RowDecoder}.
 */
final class TiledDecodeKernel implements LinearKernel {
    /** Decodes weight row r into out[off .. off+K). */
    interface RowDecoder {
        void decode(int r, float[] out, int off);
    }

    private static final int TILE = 32;
    private static final Parallel SERIAL = new Parallel(1);
    private final RowDecoder decoder;
    private final int n;
    private final int k;

    private TiledDecodeKernel(RowDecoder decoder, int n, int k) {
        this.decoder = decoder;
        this.n = n;
        this.k = k;
    }

    /** A tiled kernel over any row decoder (e.g. a device layout's vector decoder). */
    static TiledDecodeKernel of(RowDecoder decoder, int n, int k) {
        return new TiledDecodeKernel(decoder, n, k);
    }

    static TiledDecodeKernel of(MxWeight w) {
        int k = (int) w.cols();
        MxBlockCodec codec = new MxBlockCodec(w.format(), w.blockSize(), ScaleRule.FLOOR);
        int rowBytes = codec.rowBytes(k), blocks = codec.blocks(k);
        return new TiledDecodeKernel((r, out, off) -> codec.dequantizeRow(w.codes(), r * rowBytes, w.scales(), r * blocks, k, out, off),
                (int) w.rows(), k);
    }

    static TiledDecodeKernel of(IntGroupedWeight w) {
        return new TiledDecodeKernel((r, out, off) -> IntGroupCodec.dequantizeRow(w, r, out, off), (int) w.rows(), (int) w.cols());
    }

    @Override public int inFeatures() { return k; }

    @Override public int outFeatures() { return n; }

    @Override
    public void forward(float[] x, int rows, float[] out, Parallel parallel) {
        if (rows >= DenseLinearKernel.BLAS_MIN_ROWS && OpenBlas.available()) {
            // Many rows: decoding the whole weight (O(N·K), a transient float copy) and one BLAS product beats
            // streaming every activation row past each 32-row tile; the codes stay the resident form.
            float[] w = new float[n * k];
            parallel.forRange(n, TILE, (from, to) -> {
                for (int r = from; r < to; r++) decoder.decode(r, w, r * k);
            });
            OpenBlas.gemm(x, w, out, rows, n, k, parallel);
            return;
        }
        parallel.forRange(n, TILE, (from, to) -> {
            float[] tile = new float[TILE * k];
            float[] part = new float[rows * TILE];
            for (int n0 = from; n0 < to; n0 += TILE) {
                int nt = Math.min(TILE, to - n0);
                for (int r = 0; r < nt; r++) decoder.decode(n0 + r, tile, r * k);
                VectorGemm.gemm(x, tile, part, rows, nt, k, SERIAL);
                for (int m = 0; m < rows; m++) System.arraycopy(part, m * nt, out, m * n + n0, nt);
            }
        });
    }

    @Override
    public float[] denseWeight() {
        float[] w = new float[n * k];
        for (int r = 0; r < n; r++) decoder.decode(r, w, r * k);
        return w;
    }

}
