package dev.tamp.formats.gguf;

import dev.tamp.core.tensor.Half;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * ggml's Q8_0 and Q4_0 blocks of 32 values (formats.md §4.2): an f16 scale d, then 32 int8 codes (Q8_0,
 * value = q·d) or 16 bytes of nibbles (Q4_0: byte j holds element j in its low nibble and element j+16 in its
 * high nibble, value = (q − 8)·d); and MXFP4: an E8M0 byte e, then 16 bytes of E2M1 codes in Q4_0's nibble order,
 * value = E2M1(q)·2^(e−127).
 */
public final class GgmlBlocks {
    /** E2M1 values doubled, by code (sign in bit 3): ggml's MXFP4 scales them by 2^(e−128), half the E8M0 scale. */
    static final int[] MXFP4_DOUBLED = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};

    private GgmlBlocks() {}

    /** Decodes {@code n} values (a multiple of 32) of Q8_0 or Q4_0 blocks. */
    public static float[] dequantize(GgmlType type, ByteBuffer raw, int n) {
        if (type != GgmlType.Q8_0 && type != GgmlType.Q4_0 && type != GgmlType.MXFP4) throw new IllegalArgumentException(type + " is not a block type");
        ByteBuffer b = raw.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[n];
        if (type == GgmlType.MXFP4) {
            for (int blk = 0; blk < n / 32; blk++) {
                int base = blk * type.blockBytes;
                float half = Math.scalb(1f, (b.get(base) & 0xFF) - 128);
                for (int j = 0; j < 16; j++) {
                    int q = b.get(base + 1 + j) & 0xFF;
                    out[blk * 32 + j] = MXFP4_DOUBLED[q & 0x0F] * half;
                    out[blk * 32 + j + 16] = MXFP4_DOUBLED[q >>> 4] * half;
                }
            }
            return out;
        }
        for (int blk = 0; blk < n / 32; blk++) {
            int base = blk * type.blockBytes;
            float d = Half.f16ToFloat(b.getShort(base));
            if (type == GgmlType.Q8_0) {
                for (int i = 0; i < 32; i++) out[blk * 32 + i] = b.get(base + 2 + i) * d;
            } else {
                for (int j = 0; j < 16; j++) {
                    int q = b.get(base + 2 + j) & 0xFF;
                    out[blk * 32 + j] = ((q & 0x0F) - 8) * d;
                    out[blk * 32 + j + 16] = ((q >>> 4) - 8) * d;
                }
            }
        }
        return out;
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
