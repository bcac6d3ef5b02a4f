package dev.tamp.formats.gguf;

import dev.tamp.core.tensor.Half;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * ggml's blocks of 32 values (formats.md §4.2, ggml-common.h), decoded as ggml's dequantize_row_* do, in the same
 * float operation order so that the results are bit-identical. Each block starts with its scale(s), then 16 bytes of
 * nibbles where byte j holds element j in its low nibble and element j+16 in its high nibble:
 * <ul>
 *   <li>Q4_0: f16 d; value = (q − 8)·d. Q4_1: f16 d, f16 m; value = q·d + m.</li>
 *   <li>Q5_0 / Q5_1: as Q4_0 / Q4_1 with a 32-bit word of fifth bits (bit j for element j) after the scales;
 *       value = (q − 16)·d, resp. q·d + m.</li>
 *   <li>Q8_0: f16 d, then 32 int8 codes (not nibbles); value = q·d.</li>
 *   <li>IQ4_NL: f16 d; value = d·{@link #IQ4NL_VALUES}[q], a non-uniform 4-bit grid.</li>
 *   <li>MXFP4: an E8M0 byte e; value = E2M1(q)·2^(e−127).</li>
 * </ul>
 * Also ggml's reference Q8_0/Q4_0 quantizers, which the GGUF export uses.
 */
public final class GgmlBlocks {
    /** E2M1 values doubled, by code (sign in bit 3): ggml's MXFP4 scales them by 2^(e−128), half the E8M0 scale. */
    static final int[] MXFP4_DOUBLED = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};
    /** ggml's kvalues_iq4nl: the IQ4_NL / IQ4_XS code book, denser near zero where weights are. */
    static final int[] IQ4NL_VALUES = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

    private GgmlBlocks() {}

    /** Decodes {@code n} values (a multiple of 32) of Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, IQ4_NL or MXFP4 blocks. */
    public static float[] dequantize(GgmlType type, ByteBuffer raw, int n) {
        if (type.blockSize != 32) throw new IllegalArgumentException(type + " is not a 32-element block type");
        ByteBuffer b = raw.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[n];
        for (int blk = 0; blk < n / 32; blk++) {
            int base = blk * type.blockBytes, o = blk * 32;
            switch (type) {
                case Q4_0 -> nibbles(b, base + 2, -8, f16(b, base), 0f, false, 0, out, o);
                case Q4_1 -> nibbles(b, base + 4, 0, f16(b, base), f16(b, base + 2), true, 0, out, o);
                case Q5_0 -> nibbles(b, base + 6, -16, f16(b, base), 0f, false, b.getInt(base + 2), out, o);
                case Q5_1 -> nibbles(b, base + 8, 0, f16(b, base), f16(b, base + 2), true, b.getInt(base + 4), out, o);
                case Q8_0 -> {
                    float d = f16(b, base);
                    for (int i = 0; i < 32; i++) out[o + i] = b.get(base + 2 + i) * d;
                }
                case IQ4_NL -> {
                    float d = f16(b, base);
                    for (int j = 0; j < 16; j++) {
                        int q = b.get(base + 2 + j) & 0xFF;
                        out[o + j] = d * IQ4NL_VALUES[q & 0x0F];
                        out[o + j + 16] = d * IQ4NL_VALUES[q >>> 4];
                    }
                }
                case MXFP4 -> {
                    float half = Math.scalb(1f, (b.get(base) & 0xFF) - 128);
                    for (int j = 0; j < 16; j++) {
                        int q = b.get(base + 1 + j) & 0xFF;
                        out[o + j] = MXFP4_DOUBLED[q & 0x0F] * half;
                        out[o + j + 16] = MXFP4_DOUBLED[q >>> 4] * half;
                    }
                }
                default -> throw new IllegalArgumentException(type + " is not a 32-element block type");
            }
        }
        return out;
    }

    /**
     * One block of 4- or 5-bit codes: 16 nibble bytes at {@code qs}, fifth bits (element j's is bit j) in {@code high}
     * (0 for 4-bit types). ggml computes (q + offset)·d for the symmetric types and q·d + m for those with a min;
     * the two forms round differently (and q·d + 0 turns −0 into +0), so each type keeps its own.
     */
    private static void nibbles(ByteBuffer b, int qs, int offset, float d, float m, boolean withMin, int high, float[] out, int o) {
        for (int j = 0; j < 16; j++) {
            int q = b.get(qs + j) & 0xFF;
            int q0 = (q & 0x0F) | ((high >>> j) << 4 & 0x10);
            int q1 = (q >>> 4) | ((high >>> (j + 12)) & 0x10);
            out[o + j] = withMin ? q0 * d + m : (q0 + offset) * d;
            out[o + j + 16] = withMin ? q1 * d + m : (q1 + offset) * d;
        }
    }

    /** The IEEE half at {@code at}, widened exactly as ggml's GGML_FP16_TO_FP32. */
    static float f16(ByteBuffer b, int at) {
        return Half.f16ToFloat(b.getShort(at));
    }

    /** C's roundf: nearest, ties away from zero (Math.round sends −2.5 to −2, roundf to −3). */
    static int roundHalfAway(float v) {
        return (int) Math.copySign(Math.floor(Math.abs((double) v) + 0.5), v); // in double: 0.49999997f + 0.5f rounds to 1 in float
    }

    /**
     * Quantizes to Q8_0 the way ggml's reference quantizer does: d = amax/127 (fp32, stored as fp16), codes =
     * roundf(x · (1/d)) with the unrounded fp32 d. {@code x.length} must be a multiple of 32.
     */
    public static byte[] quantizeQ8_0(float[] x) {
        byte[] out = new byte[x.length / 32 * 34];
        ByteBuffer b = ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
        for (int blk = 0; blk < x.length / 32; blk++) {
            float amax = 0;
            for (int i = 0; i < 32; i++) amax = Math.max(amax, Math.abs(x[blk * 32 + i]));
            float d = amax / 127f;
            float id = d != 0 ? 1f / d : 0f;
            b.putShort(blk * 34, Half.floatToF16(d));
            for (int i = 0; i < 32; i++) b.put(blk * 34 + 2 + i, (byte) roundHalfAway(x[blk * 32 + i] * id));
        }
        return out;
    }

    /**
     * Quantizes to Q4_0 as ggml's reference quantizer does: d = max/−8 with max the signed value of largest
     * magnitude (fp32, stored as fp16), codes = min(15, trunc(x · (1/d) + 8.5)). {@code x.length} must be a multiple of 32.
     */
    public static byte[] quantizeQ4_0(float[] x) {
        byte[] out = new byte[x.length / 32 * 18];
        ByteBuffer b = ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
        for (int blk = 0; blk < x.length / 32; blk++) {
            float amax = 0, max = 0;
            for (int i = 0; i < 32; i++) {
                float v = x[blk * 32 + i];
                if (Math.abs(v) > amax) { amax = Math.abs(v); max = v; }
            }
            float d = max / -8f;
            float id = d != 0 ? 1f / d : 0f;
            b.putShort(blk * 18, Half.floatToF16(d));
            for (int j = 0; j < 16; j++) {
                int q0 = Math.min(15, (int) (x[blk * 32 + j] * id + 8.5f));
                int q1 = Math.min(15, (int) (x[blk * 32 + j + 16] * id + 8.5f));
                b.put(blk * 18 + 2 + j, (byte) (q0 | (q1 << 4)));
            }
        }
        return out;
    }
}
