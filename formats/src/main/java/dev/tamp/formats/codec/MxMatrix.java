package dev.tamp.formats.codec;

import dev.tamp.core.encoding.Layout;
import dev.tamp.core.encoding.MxFormat;
import dev.tamp.core.encoding.MxWeight;
import dev.tamp.core.error.BadInputException;
import dev.tamp.core.tensor.Tensor;
import java.nio.ByteBuffer;
import java.util.stream.IntStream;

/**
 * Whole weight matrices ↔ {@link MxWeight}: rows of the [N][K] view (K = the reduction axis, whatever the
 * graph's orientation) are converted independently, in parallel tiles, straight from the source tensor's bytes
 * (no float copy of the tensor). Codes and scales are laid out per {@link MxWeight}: row r's packed codes at
 * r·rowBytes, its scale bytes at r·blocks.
 */
public final class MxMatrix {
    private MxMatrix() {}

    /**
     * Quantizes a 2-D float weight whose reduction axis is {@code kAxis}. Bytes do not depend on the thread count.
     * @throws BadInputException "row R: non-finite value V at index I" (the lowest bad row; the caller adds the tensor)
     */
    public static MxWeight quantize(Tensor t, int kAxis, MxFormat f, int blockSize, ScaleRule rule) {
        FloatRows rows = new FloatRows(t, kAxis);
        MxBlockCodec codec = new MxBlockCodec(f, blockSize, rule);
        int k = rows.cols(), rowBytes = codec.rowBytes(k), nb = codec.blocks(k);
        byte[] codes = new byte[Math.multiplyExact(rows.rows(), rowBytes)], scales = new byte[rows.rows() * nb];
        RowTiles.forEach(rows, (r, tile, off) -> codec.quantizeRow(tile, off, k, codes, r * rowBytes, scales, r * nb));
        return new MxWeight(t.shape(), kAxis, f, blockSize, ByteBuffer.wrap(codes), ByteBuffer.wrap(scales), null, Layout.GENERIC);
    }

    /** Decodes row r of an MX weight into out[off .. off+K). */
    public static void dequantizeRow(MxWeight w, int r, float[] out, int off) {
        MxBlockCodec codec = new MxBlockCodec(w.format(), w.blockSize(), ScaleRule.FLOOR);
        int k = (int) w.cols();
        codec.dequantizeRow(w.codes(), r * codec.rowBytes(k), w.scales(), r * codec.blocks(k), k, out, off);
    }

    /** The dense [N][K] floats of an MX weight in any layout. */
    public static float[] dequantize(MxWeight w) {
        if (w.layout() != Layout.GENERIC) w = (MxWeight) PackLayouts.toGeneric(w);
        int n = (int) w.rows(), k = (int) w.cols();
        MxBlockCodec codec = new MxBlockCodec(w.format(), w.blockSize(), ScaleRule.FLOOR);
        int rowBytes = codec.rowBytes(k), nb = codec.blocks(k);
        float[] out = new float[Math.multiplyExact(n, k)];
        ByteBuffer codes = w.codes(), scales = w.scales();
        IntStream.range(0, n).parallel().forEach(r -> codec.dequantizeRow(codes, r * rowBytes, scales, r * nb, k, out, r * k));
        return out;
    }

    /** Slice-and-Scale of a whole anchor weight to another format (codes and scales only; §2). */
    public static MxWeight slice(MxWeight anchor, MxFormat to) {
        if (!SliceAndScale.isAnchor(anchor.format())) {
            throw new IllegalArgumentException(anchor.format().cliName() + " is not an anchor format (mxint8, mxfp8, mxfp8-e5m2)");
        }
        int n = (int) anchor.rows(), k = (int) anchor.cols(), bs = anchor.blockSize();
        MxBlockCodec from = new MxBlockCodec(anchor.format(), bs, ScaleRule.FLOOR), tgt = new MxBlockCodec(to, bs, ScaleRule.FLOOR);
        int nb = from.blocks(k), inBytes = from.rowBytes(k), outBytes = tgt.rowBytes(k), padded = from.paddedLength(k);
        byte[] codes = new byte[Math.multiplyExact(n, outBytes)], scales = new byte[n * nb];
        ByteBuffer ac = anchor.codes(), as = anchor.scales();
        IntStream.range(0, n).parallel().forEach(r -> {
            int[] in = new int[padded], out = new int[padded];
            Packing.unpack(ac, r * inBytes, padded, anchor.format().bits(), in);
            for (int b = 0; b < nb; b++) {
                scales[r * nb + b] = (byte) SliceAndScale.sliceBlock(anchor.format(), in, b * bs, as.get(r * nb + b), to, out, b * bs, bs);
            }
            Packing.pack(out, padded, to.bits(), codes, r * outBytes);
        });
        return new MxWeight(anchor.shape(), anchor.kAxis(), to, bs, ByteBuffer.wrap(codes), ByteBuffer.wrap(scales), anchor.format(), Layout.GENERIC);
    }
}
