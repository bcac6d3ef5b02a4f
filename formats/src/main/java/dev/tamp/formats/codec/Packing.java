package dev.tamp.formats.codec;

import java.nio.ByteBuffer;

/**
 * Bit packing of element codes in the GENERIC layout (formats.md §6.2). A row of codes is one little-endian bit
 * stream: element i occupies bits i·b .. i·b+b−1. Concretely:
 * <ul>
 *   <li>8-bit: one code per byte;</li>
 *   <li>4-bit: two per byte, low nibble first — byte i = e[2i] | e[2i+1] << 4 ("pair order", as PyTorch
 *       float4_e2m1fn_x2, ONNX and compressed-tensors store them);</li>
 *   <li>6-bit: four per three bytes — the 24-bit little-endian word of bytes 3j..3j+2 holds e[4j] in bits 0..5,
 *       e[4j+1] in 6..11, e[4j+2] in 12..17, e[4j+3] in 18..23.</li>
 * </ul>
 * A partial last group occupies only ceil(count·b/8) bytes; unused high bits are zero.
 */
public final class Packing {
    private Packing() {}

    public static int bytes(int count, int bits) {
        return (int) (((long) count * bits + 7) / 8);
    }

    /** Writes codes[0 .. count) as a row starting at out[off], exactly {@link #bytes}(count, bits) bytes. */
    public static void pack(int[] codes, int count, int bits, byte[] out, int off) {
        switch (bits) {
            case 8 -> {
                for (int i = 0; i < count; i++) out[off + i] = (byte) codes[i];
            }
            case 4 -> {
                int pairs = count / 2;
                for (int i = 0; i < pairs; i++) out[off + i] = (byte) ((codes[2 * i] & 0xF) | (codes[2 * i + 1] & 0xF) << 4);
                if ((count & 1) != 0) out[off + pairs] = (byte) (codes[count - 1] & 0xF);
            }
            case 6 -> {
                int quads = count / 4;
                for (int q = 0; q < quads; q++) {
                    int i = 4 * q;
                    int w = (codes[i] & 0x3F) | (codes[i + 1] & 0x3F) << 6 | (codes[i + 2] & 0x3F) << 12 | (codes[i + 3] & 0x3F) << 18;
                    int b = off + 3 * q;
                    out[b] = (byte) w;
                    out[b + 1] = (byte) (w >>> 8);
                    out[b + 2] = (byte) (w >>> 16);
                }
                int rest = count - 4 * quads;
                if (rest > 0) {
                    int w = 0;
                    for (int j = 0; j < rest; j++) w |= (codes[4 * quads + j] & 0x3F) << (6 * j);
                    int b = off + 3 * quads;
                    for (int j = 0; j < bytes(rest, 6); j++) out[b + j] = (byte) (w >>> (8 * j));
                }
            }
            default -> throw new IllegalArgumentException(bits + "-bit codes are not packable");
        }
    }

    /** Reads codes[0 .. count) of a row starting at byte {@code off} (the inverse of {@link #pack}). */
    public static void unpack(ByteBuffer buf, int off, int count, int bits, int[] codes) {
        for (int i = 0; i < count; i++) codes[i] = get(buf, off, i, bits);
    }

    /** Reads code {@code i} of a row starting at byte {@code off}. */
    public static int get(ByteBuffer buf, int off, int i, int bits) {
        switch (bits) {
            case 8:
                return buf.get(off + i) & 0xFF;
            case 4: {
                int b = buf.get(off + (i >>> 1)) & 0xFF;
                return (i & 1) == 0 ? b & 0xF : b >>> 4;
            }
            case 6: {
                int bit = 6 * i, at = off + (bit >>> 3), sh = bit & 7;
                int w = buf.get(at) & 0xFF;
                if (sh > 2) w |= (buf.get(at + 1) & 0xFF) << 8; // the code straddles two bytes
                return (w >>> sh) & 0x3F;
            }
            default:
                throw new IllegalArgumentException(bits + "-bit codes are not packable");
        }
    }
}
