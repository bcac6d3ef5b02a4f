package dev.tamp.formats.codec;

import dev.tamp.core.encoding.MxFormat;
import java.nio.ByteBuffer;

/**
 * FP32 rows ↔ MX blocks (formats.md §1.4): per block of {@code blockSize} values along K (the row tail padded
 * with zeros), amax → E8M0 shared exponent (FLOOR by default, clamped to ±127; all-zero block → 0x00),
 * elements = value · 2^−exponent rounded to the element grid (RNE, saturating, zero as +0). Non-finite input
 * is refused with the index: NaN weights are bad input. Stateless and allocation-free per element.
 */
public final class MxBlockCodec {
    private final MxFormat format;
    private final ElementCodec codec;
    private final int blockSize;
    private final ScaleRule rule;

    public MxBlockCodec(MxFormat format, int blockSize, ScaleRule rule) {
        if (blockSize <= 0 || (format.bits() == 6 && blockSize % 4 != 0) || (format.bits() == 4 && blockSize % 2 != 0)) {
            throw new IllegalArgumentException("block size " + blockSize + " does not pack " + format.bits() + "-bit codes");
        }
        this.format = format;
        this.codec = ElementCodecs.of(format);
        this.blockSize = blockSize;
        this.rule = rule;
    }

    public MxFormat format() { return format; }

    public int blockSize() { return blockSize; }

    public int paddedLength(int k) { return (k + blockSize - 1) / blockSize * blockSize; }

    public int blocks(int k) { return paddedLength(k) / blockSize; }

    public int rowBytes(int k) { return Packing.bytes(paddedLength(k), format.bits()); }

    /**
     * Quantizes x[off .. off+k) into packed codes at codes[codesOff..] and scale bytes at scales[scalesOff..].
     * @throws IllegalArgumentException naming the index of a non-finite value
     */
    public void quantizeRow(float[] x, int off, int k, byte[] codes, int codesOff, byte[] scales, int scalesOff) {
        int nb = blocks(k);
        int bits = format.bits();
        java.util.Arrays.fill(codes, codesOff, codesOff + rowBytes(k), (byte) 0);
        for (int b = 0; b < nb; b++) {
            int start = b * blockSize, end = Math.min(k, start + blockSize);
            float amax = 0;
            for (int i = start; i < end; i++) {
                float v = x[off + i];
                if (!Float.isFinite(v)) throw new IllegalArgumentException("non-finite value " + v + " at index " + i);
                amax = Math.max(amax, Math.abs(v));
            }
            if (amax == 0) {
                scales[scalesOff + b] = 0; // codes stay 0
                continue;
            }
            int scaleByte = E8M0.encode(rule.exponent(amax, format, codec));
            scales[scalesOff + b] = (byte) scaleByte;
            // x · 2^−se is exact in float: the block's scaled values stay within the element range
            float inv = Math.scalb(1.0f, -(scaleByte - 127));
            for (int i = start; i < end; i++) Packing.put(codes, codesOff, i, bits, codec.encodeFloat(x[off + i] * inv));
        }
    }

    /** Decodes a row of k values from packed codes and scales. */
    public void dequantizeRow(ByteBuffer codes, int codesOff, ByteBuffer scales, int scalesOff, int k, float[] out, int outOff) {
        for (int i = 0; i < k; i++) {
            float s = E8M0.decode(scales.get(scalesOff + i / blockSize));
            out[outOff + i] = (float) (codec.decode(Packing.get(codes, codesOff, i, format.bits())) * s);
        }
    }

    /** The element codes of one row, unpacked (tests and slicing). */
    public int[] unpackRow(ByteBuffer codes, int codesOff, int k) {
        int n = paddedLength(k);
        int[] out = new int[n];
        for (int i = 0; i < n; i++) out[i] = Packing.get(codes, codesOff, i, format.bits());
        return out;
    }
}
