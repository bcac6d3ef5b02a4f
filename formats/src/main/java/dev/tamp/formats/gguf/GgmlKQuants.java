package dev.tamp.formats.gguf;

import static dev.tamp.formats.gguf.GgmlBlocks.IQ4NL_VALUES;
import static dev.tamp.formats.gguf.GgmlBlocks.f16;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * ggml's super-blocks of 256 values (ggml-common.h): the k-quants Q2_K..Q6_K and Q8_K, and IQ4_XS. Each super-block
 * holds fp16 super-scales and, per sub-block of 16 or 32 values, a small integer scale (and min) relative to them.
 * Decoded as ggml's dequantize_row_* do, with the same float operations in the same order (the sub-block scale
 * d·sc is rounded to float first, then multiplied by the code), so that the results are bit-identical.
 *
 * <p>Layouts in file order (bytes):
 * <ul>
 *   <li>Q2_K (84): scales[16] (low nibble scale, high nibble min, one per 16 values), qs[64] (2-bit codes), f16 d,
 *       f16 dmin; value = (d·sc)·q − dmin·m.</li>
 *   <li>Q3_K (110): hmask[32] (third bits), qs[64] (low 2 bits), scales[12] (sixteen 6-bit scales, biased by 32),
 *       f16 d; value = (d·(sc − 32))·(q − 4 unless the hmask bit is set).</li>
 *   <li>Q4_K (144): f16 d, f16 dmin, scales[12] (eight 6-bit scales and mins, one per 32 values), qs[128];
 *       value = (d·sc)·q − dmin·m.</li>
 *   <li>Q5_K (176): as Q4_K with qh[32] (fifth bits) before qs.</li>
 *   <li>Q6_K (210): ql[128] (low 4 bits), qh[64] (high 2 bits), int8 scales[16], f16 d; value = (d·sc)·(q − 32).</li>
 *   <li>Q8_K (292): f32 d, int8 qs[256], int16 bsums[16] (sums for dot products, not needed to decode); value = d·q.</li>
 *   <li>IQ4_XS (136): f16 d, u16 scales_h, scales_l[4] (eight 6-bit scales, biased by 32: low 4 bits in scales_l,
 *       high 2 in scales_h), qs[128]; value = (d·(sc − 32))·IQ4_NL[q].</li>
 * </ul>
 */
public final class GgmlKQuants {
    /** ggml's QK_K: values per super-block. */
    public static final int QK_K = 256;

    private GgmlKQuants() {}

    /** Decodes {@code n} values (a multiple of 256) of Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, Q8_K or IQ4_XS super-blocks. */
    public static float[] dequantize(GgmlType type, ByteBuffer raw, int n) {
        if (type.blockSize != QK_K) throw new IllegalArgumentException(type + " is not a 256-element super-block type");
        ByteBuffer b = raw.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[n];
        for (int blk = 0; blk < n / QK_K; blk++) {
            int base = blk * type.blockBytes, o = blk * QK_K;
            switch (type) {
                case Q2_K -> q2k(b, base, out, o);
                case Q3_K -> q3k(b, base, out, o);
                case Q4_K, Q5_K -> q45k(b, base, type == GgmlType.Q5_K, out, o);
                case Q6_K -> q6k(b, base, out, o);
                case Q8_K -> {
                    float d = b.getFloat(base);
                    for (int i = 0; i < QK_K; i++) out[o + i] = d * b.get(base + 4 + i);
                }
                case IQ4_XS -> iq4xs(b, base, out, o);
                default -> throw new IllegalArgumentException(type + " is not a 256-element super-block type");
            }
        }
        return out;
    }

    private static int u8(ByteBuffer b, int at) {
        return b.get(at) & 0xFF;
    }

    /**
     * Two halves of 128 values; in each, the 32 code bytes are read four times (2-bit planes, shift 0, 2, 4, 6), each
     * pass giving two sub-blocks of 16 (bytes 0..15 and 16..31) with their own scale/min byte.
     */
    private static void q2k(ByteBuffer b, int base, float[] out, int o) {
        float d = f16(b, base + 80), min = f16(b, base + 82);
        int is = 0;
        for (int half = 0; half < 2; half++) {
            int q = base + 16 + 32 * half;
            for (int shift = 0; shift < 8; shift += 2) {
                for (int sub = 0; sub < 32; sub += 16) {
                    int sc = u8(b, base + is++);
                    float dl = d * (sc & 0x0F), ml = min * (sc >>> 4);
                    for (int l = 0; l < 16; l++) out[o++] = dl * ((u8(b, q + sub + l) >>> shift) & 3) - ml;
                }
            }
        }
    }

    /**
     * Q3_K's sixteen 6-bit scales: the low 4 bits of scale j are byte j's low nibble (j < 8) or byte j−8's high
     * nibble, the high 2 bits are bits 2·(j/4) of byte 8 + j%4. ggml unpacks them with 32-bit masks; this is the same
     * mapping one scale at a time.
     */
    static int q3kScale(ByteBuffer b, int scales, int j) {
        int low = j < 8 ? u8(b, scales + j) & 0x0F : u8(b, scales + j - 8) >>> 4;
        int high = (u8(b, scales + 8 + j % 4) >>> (2 * (j / 4))) & 3;
        return low | high << 4;
    }

    /**
     * As Q2_K's planes, plus a third bit per value from hmask: hmask byte l (l < 32, the value's position in its
     * 32-byte group) holds it in bit 4·half + plane; a clear bit subtracts 4.
     */
    private static void q3k(ByteBuffer b, int base, float[] out, int o) {
        float dAll = f16(b, base + 108);
        int is = 0, bit = 0;
        for (int half = 0; half < 2; half++) {
            int q = base + 32 + 32 * half;
            for (int shift = 0; shift < 8; shift += 2, bit++) {
                for (int sub = 0; sub < 32; sub += 16) {
                    float dl = dAll * (q3kScale(b, base + 96, is++) - 32);
                    for (int l = sub; l < sub + 16; l++) {
                        int hbit = (u8(b, base + l) >>> bit) & 1;
                        out[o++] = dl * (((u8(b, q + l) >>> shift) & 3) - (hbit != 0 ? 0 : 4));
                    }
                }
            }
        }
    }

    /**
     * ggml's get_scale_min_k4: eight 6-bit (scale, min) pairs in 12 bytes. Pairs 0..3 are the low 6 bits of bytes j
     * (scale) and j+4 (min); pairs 4..7 take their low 4 bits from byte j+4's nibbles and their high 2 bits from the
     * top bits of bytes j−4 (scale) and j (min). Returns scale | min << 8.
     */
    static int scaleMinK4(ByteBuffer b, int scales, int j) {
        if (j < 4) return (u8(b, scales + j) & 63) | (u8(b, scales + j + 4) & 63) << 8;
        int sc = (u8(b, scales + j + 4) & 0x0F) | (u8(b, scales + j - 4) >>> 6) << 4;
        int m = (u8(b, scales + j + 4) >>> 4) | (u8(b, scales + j) >>> 6) << 4;
        return sc | m << 8;
    }

    /**
     * Four chunks of 64 values, each 32 code bytes read twice: low nibbles (sub-block 2c) then high nibbles
     * (sub-block 2c+1). Q5_K's fifth bit of value l in sub-block s is bit s of qh[l].
     */
    private static void q45k(ByteBuffer b, int base, boolean five, float[] out, int o) {
        float d = f16(b, base), min = f16(b, base + 2);
        int scales = base + 4, qh = base + 16, qs = base + (five ? 48 : 16);
        for (int c = 0; c < 4; c++) {
            for (int nib = 0; nib < 2; nib++) {
                int s = 2 * c + nib, sm = scaleMinK4(b, scales, s);
                float dl = d * (sm & 0xFF), ml = min * (sm >>> 8);
                for (int l = 0; l < 32; l++) {
                    int q = (u8(b, qs + 32 * c + l) >>> (4 * nib)) & 0x0F;
                    if (five) q += ((u8(b, qh + l) >>> s) & 1) << 4;
                    out[o++] = dl * q - ml;
                }
            }
        }
    }

    /**
     * Two halves of 128 values, each from 64 ql bytes and 32 qh bytes: for l < 32, value l takes ql[l]'s low nibble,
     * l+32 ql[l+32]'s low nibble, l+64 ql[l]'s high nibble and l+96 ql[l+32]'s high nibble, their high 2 bits being
     * bits 0-1, 2-3, 4-5 and 6-7 of qh[l]. Scales are per 16 values.
     */
    private static void q6k(ByteBuffer b, int base, float[] out, int o) {
        float d = f16(b, base + 208);
        for (int half = 0; half < 2; half++) {
            int ql = base + 64 * half, qh = base + 128 + 32 * half, sc = base + 192 + 8 * half, y = o + 128 * half;
            for (int l = 0; l < 32; l++) {
                int is = l / 16, h = u8(b, qh + l), lo = u8(b, ql + l), hi = u8(b, ql + l + 32);
                int q1 = ((lo & 0x0F) | (h & 3) << 4) - 32;
                int q2 = ((hi & 0x0F) | (h >>> 2 & 3) << 4) - 32;
                int q3 = ((lo >>> 4) | (h >>> 4 & 3) << 4) - 32;
                int q4 = ((hi >>> 4) | (h >>> 6 & 3) << 4) - 32;
                // ggml writes d * sc * q: (d·sc) rounded first, then times the code
                out[y + l] = d * b.get(sc + is) * q1;
                out[y + l + 32] = d * b.get(sc + is + 2) * q2;
                out[y + l + 64] = d * b.get(sc + is + 4) * q3;
                out[y + l + 96] = d * b.get(sc + is + 6) * q4;
            }
        }
    }

    /** Eight sub-blocks of 32 in Q4_0's nibble order, each with a 6-bit scale (low 4 bits in scales_l, high 2 in scales_h). */
    private static void iq4xs(ByteBuffer b, int base, float[] out, int o) {
        float d = f16(b, base);
        int scalesH = b.getShort(base + 2) & 0xFFFF;
        for (int ib = 0; ib < 8; ib++) {
            int ls = ((u8(b, base + 4 + ib / 2) >>> (4 * (ib % 2))) & 0x0F) | ((scalesH >>> (2 * ib)) & 3) << 4;
            float dl = d * (ls - 32);
            int qs = base + 8 + 16 * ib;
            for (int j = 0; j < 16; j++) {
                int q = u8(b, qs + j);
                out[o + 32 * ib + j] = dl * IQ4NL_VALUES[q & 0x0F];
                out[o + 32 * ib + j + 16] = dl * IQ4NL_VALUES[q >>> 4];
            }
        }
    }
}
