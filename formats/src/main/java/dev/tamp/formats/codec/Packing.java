package dev.tamp.formats.codec;

/**
 * Bit packing of element codes in the GENERIC layout (formats.md §6.2): 8-bit codes one per byte; 4-bit codes
 * two per byte in pair order (byte i = e[2i] | e[2i+1] << 4, low nibble first, as PyTorch float4_e2m1fn_x2,
 * ONNX and compressed-tensors store them); 6-bit codes four per three bytes as a little-endian bit stream
 * (element i at bits 6i..6i+5 of the 24-bit group).
 */
public final class Packing {
    private Packing() {}

    public static int bytes(int count, int bits) {
        return (int) (((long) count * bits + 7) / 8);
    }

    /** Writes {@code count} codes starting at element offset 0 of the row at byte {@code off}. */
    public static void pack(int[] codes, int count, int bits, byte[] out, int off) {
        switch (bits) {
            case 8 -> {
                for (int i = 0; i < count; i++) out[off + i] = (byte) codes[i];
            }
            case 4 -> {
                for (int i = 0; i < count; i += 2) {
                    int lo = codes[i] & 0xF, hi = i + 1 < count ? codes[i + 1] & 0xF : 0;
                    out[off + i / 2] = (byte) (lo | hi << 4);
                }
            }
            case 6 -> {
                for (int i = 0; i < count; i += 4) {
                    int w = 0;
                    for (int j = 0; j < 4 && i + j < count; j++) w |= (codes[i + j] & 0x3F) << (6 * j);
                    int b = off + i / 4 * 3;
                    out[b] = (byte) w;
                    if (b + 1 < out.length) out[b + 1] = (byte) (w >>> 8);
                    if (b + 2 < out.length) out[b + 2] = (byte) (w >>> 16);
                }
            }
            default -> throw new IllegalArgumentException(bits + "-bit codes are not packable");
        }
    }

    /**
     * ORs code {@code i} into a zeroed row at byte {@code off}: element i occupies bits i·b .. i·b+b−1 of the
     * row read as a little-endian bit stream, which is exactly the layout {@link #pack} writes for 4, 6 and 8 bits.
     */
    public static void put(byte[] out, int off, int i, int bits, int code) {
        long bitPos = (long) i * bits;
        int at = off + (int) (bitPos >>> 3), shift = (int) (bitPos & 7);
        int v = (code & ((1 << bits) - 1)) << shift;
        out[at] |= (byte) v;
        if (shift + bits > 8) out[at + 1] |= (byte) (v >>> 8);
    }

    /** Reads code {@code i} of a row starting at byte {@code off}. */
    public static int get(java.nio.ByteBuffer buf, int off, int i, int bits) {
        switch (bits) {
            case 8:
                return buf.get(off + i) & 0xFF;
            case 4: {
                int b = buf.get(off + i / 2) & 0xFF;
                return (i & 1) == 0 ? b & 0xF : b >>> 4;
            }
            case 6: {
                int g = off + i / 4 * 3;
                int w = (buf.get(g) & 0xFF) | (g + 1 < buf.limit() ? (buf.get(g + 1) & 0xFF) << 8 : 0)
                        | (g + 2 < buf.limit() ? (buf.get(g + 2) & 0xFF) << 16 : 0);
                return (w >>> (6 * (i & 3))) & 0x3F;
            }
            default:
                throw new IllegalArgumentException(bits + "-bit codes are not packable");
        }
    }
}
