package dev.tamp.formats.codec;

import dev.tamp.core.encoding.MxFormat;
import dev.tamp.core.error.BadInputException;
import java.nio.ByteBuffer;

/**
 * FP32 rows ↔ MX blocks (formats.md §1.4): per block of {@code blockSize} values along K (the row tail padded
 * with zeros), amax → E8M0 shared exponent (FLOOR by default, clamped to ±127; all-zero block → 0x00),
 * elements = value · 2^−exponent rounded to the element grid (RNE, saturating, zero as +0), packed per
 * {@link Packing}. Non-finite input is refused with its index: NaN weights are bad input.
 *
 * <p>Hot path: amax is an integer max over the floats' magnitude bits; v · 2^−se is an exact float product
 * (the scaled block lies within the element range, and a product that underflows in FP32 is far below every
 * element's smallest subnormal, so it encodes to 0 either way); the element codec is a final class called
 * monomorphically. Decoding multiplies a float table of the element values by the block's scale (exact).
 * Stateless and thread-safe; nothing is allocated per element.
 */
public final class MxBlockCodec {
    private final MxFormat format;
    private final ElementCodec codec;
    private final MiniFloatCodec fp;
    private final MxIntCodec integer;
    private final int blockSize;
    private final ScaleRule rule;
    private final float[] values;

    public MxBlockCodec(MxFormat format, int blockSize, ScaleRule rule) {
        if (blockSize <= 0 || blockSize * format.bits() % 8 != 0) {
            throw new IllegalArgumentException("block size " + blockSize + " does not pack " + format.bits() + "-bit codes into whole bytes");
        }
        this.format = format;
        this.codec = ElementCodecs.of(format);
        this.fp = codec instanceof MiniFloatCodec m ? m : null;
        this.integer = codec instanceof MxIntCodec i ? i : null;
        this.blockSize = blockSize;
        this.rule = rule;
        this.values = new float[1 << format.bits()];
        for (int c = 0; c < values.length; c++) values[c] = (float) codec.decode(c);
    }

    public MxFormat format() { return format; }

    public int blockSize() { return blockSize; }

    public ScaleRule rule() { return rule; }

    public int paddedLength(int k) { return (k + blockSize - 1) / blockSize * blockSize; }

    public int blocks(int k) { return paddedLength(k) / blockSize; }

    public int rowBytes(int k) { return Packing.bytes(paddedLength(k), format.bits()); }

    /**
     * Quantizes x[off .. off+k) into {@link #rowBytes}(k) packed bytes at codes[codesOff..] and {@link #blocks}(k)
     * scale bytes at scales[scalesOff..].
     * @throws BadInputException "non-finite value V at index I" (I counted from off) — the caller adds the tensor
     */
    public void quantizeRow(float[] x, int off, int k, byte[] codes, int codesOff, byte[] scales, int scalesOff) {
        int[] block = new int[blockSize];
        int bytesPerBlock = blockSize * format.bits() / 8;
        for (int b = 0, nb = blocks(k); b < nb; b++) {
            int start = off + b * blockSize, n = Math.min(blockSize, k - b * blockSize);
            int amaxBits = 0;
            for (int i = 0; i < n; i++) amaxBits = Math.max(amaxBits, Float.floatToRawIntBits(x[start + i]) & 0x7FFFFFFF);
            if (amaxBits >= 0x7F800000) throw nonFinite(x, start, n, off);
            int scaleByte = 0;
            if (amaxBits == 0) {
                java.util.Arrays.fill(block, 0);
            } else {
                scaleByte = E8M0.encode(rule.exponent(Float.intBitsToFloat(amaxBits), format, codec));
                float inv = Math.scalb(1.0f, 127 - scaleByte);
                if (fp != null) {
                    for (int i = 0; i < n; i++) block[i] = fp.encodeFinite(x[start + i] * inv);
                } else {
                    for (int i = 0; i < n; i++) block[i] = integer.encodeFinite(x[start + i] * inv);
                }
                for (int i = n; i < blockSize; i++) block[i] = 0; // zero padding of the row tail
            }
            scales[scalesOff + b] = (byte) scaleByte;
            Packing.pack(block, blockSize, format.bits(), codes, codesOff + b * bytesPerBlock);
        }
    }

    private static BadInputException nonFinite(float[] x, int start, int n, int off) {
        for (int i = start; i < start + n; i++) {
            if (!Float.isFinite(x[i])) return new BadInputException("non-finite value " + x[i] + " at index " + (i - off));
        }
        throw new AssertionError("no non-finite value in the block");
    }

    /** Decodes a row of k values from packed codes and scales (a 0xFF scale gives NaN for its whole block). */
    public void dequantizeRow(ByteBuffer codes, int codesOff, ByteBuffer scales, int scalesOff, int k, float[] out, int outOff) {
        int bits = format.bits();
        for (int b = 0, nb = blocks(k); b < nb; b++) {
            float s = E8M0.decode(scales.get(scalesOff + b));
            int first = b * blockSize, n = Math.min(blockSize, k - first);
            int o = outOff + first;
            int at = codesOff + first * bits / 8;
            switch (bits) {
                case 8 -> {
                    for (int i = 0; i < n; i++) out[o + i] = values[codes.get(at + i) & 0xFF] * s;
                }
                case 4 -> {
                    for (int i = 0; i + 1 < n; i += 2) {
                        int v = codes.get(at + (i >>> 1)) & 0xFF;
                        out[o + i] = values[v & 0xF] * s;
                        out[o + i + 1] = values[v >>> 4] * s;
                    }
                    if ((n & 1) != 0) out[o + n - 1] = values[codes.get(at + (n >>> 1)) & 0xF] * s;
                }
                default -> {
                    int i = 0;
                    for (; i + 3 < n; i += 4) {
                        int g = at + i / 4 * 3;
                        int w = (codes.get(g) & 0xFF) | (codes.get(g + 1) & 0xFF) << 8 | (codes.get(g + 2) & 0xFF) << 16;
                        out[o + i] = values[w & 0x3F] * s;
                        out[o + i + 1] = values[(w >>> 6) & 0x3F] * s;
                        out[o + i + 2] = values[(w >>> 12) & 0x3F] * s;
                        out[o + i + 3] = values[w >>> 18] * s;
                    }
                    for (; i < n; i++) out[o + i] = values[Packing.get(codes, at, i, 6)] * s;
                }
            }
        }
    }

    /** The element codes of one row, unpacked, padding included (tests and slicing). */
    public int[] unpackRow(ByteBuffer codes, int codesOff, int k) {
        int[] out = new int[paddedLength(k)];
        Packing.unpack(codes, codesOff, out.length, format.bits(), out);
        return out;
    }
}
