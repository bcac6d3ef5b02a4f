package dev.tamp.formats.codec;

import dev.tamp.core.encoding.Layout;
import dev.tamp.core.encoding.MxFormat;
import dev.tamp.core.encoding.MxWeight;
import dev.tamp.core.tensor.Tensor;
import java.nio.ByteBuffer;
import java.util.stream.IntStream;

/**
 * Whole weight matrices ↔ {@link MxWeight}: rows of the [N][K] view (K = the reduction axis, whatever the
 * graph's orientation) are converted independently, in parallel, straight from the source tensor's bytes.
 */
public final class MxMatrix {
    private MxMatrix() {}

    /** Reads row n of the [N][K] view of a 2-D float tensor whose K axis is {@code kAxis}. */
    public static void row(Tensor t, int kAxis, int n, float[] out) {
        long[] s = t.shape();
        int k = (int) s[kAxis];
        if (kAxis == 1) {
            if (t.dtype() == dev.tamp.core.tensor.DType.F32) {
                t.data().position(n * k * 4).asFloatBuffer().get(out, 0, k);
            } else {
                for (int i = 0; i < k; i++) out[i] = t.getFloat((long) n * k + i);
            }
        } else {
            int cols = (int) s[1];
            for (int i = 0; i < k; i++) out[i] = t.getFloat((long) i * cols + n);
        }
    }

    /**
     * Quantizes a 2-D float weight. Rows run in parallel; bytes do not depend on the thread count.
     * @throws IllegalArgumentException on non-finite values, naming the row and column
     */
    public static MxWeight quantize(Tensor t, int kAxis, MxFormat f, int blockSize, ScaleRule rule) {
        long[] s = t.shape();
        int n = (int) s[1 - kAxis], k = (int) s[kAxis];
        MxBlockCodec codec = new MxBlockCodec(f, blockSize, rule);
        int rowBytes = codec.rowBytes(k), nb = codec.blocks(k);
        byte[] codes = new byte[n * rowBytes], scales = new byte[n * nb];
        Tensor src = kAxis == 0 ? transposeToRows(t) : t;
        IntStream.range(0, n).parallel().forEach(r -> {
            float[] x = new float[k];
            row(src, 1, r, x);
            try {
                codec.quantizeRow(x, 0, k, codes, r * rowBytes, scales, r * nb);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("row " + r + ": " + e.getMessage(), e);
            }
        });
        return new MxWeight(s, kAxis, f, blockSize, ByteBuffer.wrap(codes), ByteBuffer.wrap(scales), null, Layout.GENERIC);
    }

    /** A [K][N] tensor re-laid as [N][K] (one pass, so rows read contiguously). */
    static Tensor transposeToRows(Tensor t) {
        long[] s = t.shape();
        int k = (int) s[0], n = (int) s[1];
        float[] a = t.toFloatArray(), o = new float[a.length];
        for (int p = 0; p < k; p++) for (int j = 0; j < n; j++) o[j * k + p] = a[p * n + j];
        return Tensor.ofFloats(o, n, k);
    }

    /** The dense [N][K] floats of an MX weight. */
    public static float[] dequantize(MxWeight w) {
        int n = (int) w.rows(), k = (int) w.cols();
        MxBlockCodec codec = new MxBlockCodec(w.format(), w.blockSize(), ScaleRule.FLOOR);
        int rowBytes = codec.rowBytes(k), nb = codec.blocks(k);
        float[] out = new float[n * k];
        ByteBuffer codes = w.codes().duplicate(), scales = w.scales().duplicate();
        IntStream.range(0, n).parallel().forEach(r -> codec.dequantizeRow(codes, r * rowBytes, scales, r * nb, k, out, r * k));
        return out;
    }

    /** Slice-and-Scale of a whole anchor weight to another format (codes and scales only). */
    public static MxWeight slice(MxWeight anchor, MxFormat to) {
        if (!SliceAndScale.isAnchor(anchor.format())) {
            throw new IllegalArgumentException(anchor.format().cliName() + " is not an anchor format (mxint8, mxfp8, mxfp8-e5m2)");
        }
        int n = (int) anchor.rows(), k = (int) anchor.cols(), bs = anchor.blockSize();
        MxBlockCodec from = new MxBlockCodec(anchor.format(), bs, ScaleRule.FLOOR), tgt = new MxBlockCodec(to, bs, ScaleRule.FLOOR);
        int nb = from.blocks(k), inBytes = from.rowBytes(k), outBytes = tgt.rowBytes(k);
        byte[] codes = new byte[n * outBytes], scales = new byte[n * nb];
        ByteBuffer ac = anchor.codes().duplicate(), as = anchor.scales().duplicate();
        IntStream.range(0, n).parallel().forEach(r -> {
            int[] in = from.unpackRow(ac, r * inBytes, k);
            int[] out = new int[in.length];
            for (int b = 0; b < nb; b++) {
                int sb = SliceAndScale.sliceBlock(anchor.format(), in, b * bs, as.get(r * nb + b) & 0xFF, to, out, b * bs, bs);
                scales[r * nb + b] = (byte) sb;
            }
            Packing.pack(out, out.length, to.bits(), codes, r * outBytes);
        });
        return new MxWeight(anchor.shape(), anchor.kAxis(), to, bs, ByteBuffer.wrap(codes), ByteBuffer.wrap(scales), anchor.format(), Layout.GENERIC);
    }

}
