package dev.tamp.runtime.kernels;

import dev.tamp.core.encoding.MxWeight;
import dev.tamp.formats.codec.MxBlockCodec;
import dev.tamp.formats.codec.MxMatrix;
import dev.tamp.formats.codec.ScaleRule;

/**
 * An MX weight applied without ever holding it dense: each thread decodes a tile of 32 weight rows (codes ×
 * E8M0 scale) into a small float buffer and multiplies all activation rows against it, so only the packed
 * codes (4.25–8.25 bits per weight) stay resident. The decode costs O(N·K) per call against O(M·N·K) for the
 * product.
 */
final class MxLinearKernel implements LinearKernel {
    private static final int TILE = 32;
    private final MxWeight w;
    private final MxBlockCodec codec;
    private final int n;
    private final int k;
    private final int rowBytes;
    private final int blocks;

    MxLinearKernel(MxWeight w) {
        this.w = w;
        this.n = (int) w.rows();
        this.k = (int) w.cols();
        this.codec = new MxBlockCodec(w.format(), w.blockSize(), ScaleRule.FLOOR);
        this.rowBytes = codec.rowBytes(k);
        this.blocks = codec.blocks(k);
    }

    @Override public int inFeatures() { return k; }

    @Override public int outFeatures() { return n; }

    @Override
    public void forward(float[] x, int rows, float[] out, Parallel parallel) {
        parallel.forRange(n, TILE, (from, to) -> {
            float[] tile = new float[TILE * k];
            float[] part = new float[rows * TILE];
            for (int n0 = from; n0 < to; n0 += TILE) {
                int nt = Math.min(TILE, to - n0);
                for (int r = 0; r < nt; r++) {
                    codec.dequantizeRow(w.codes(), (n0 + r) * rowBytes, w.scales(), (n0 + r) * blocks, k, tile, r * k);
                }
                VectorGemm.gemm(x, tile, part, rows, nt, k, SERIAL);
                for (int m = 0; m < rows; m++) System.arraycopy(part, m * nt, out, m * n + n0, nt);
            }
        });
    }

    private static final Parallel SERIAL = new Parallel(1);

    @Override
    public float[] denseWeight() {
        return MxMatrix.dequantize(w);
    }
}
