package dev.tamp.core.tensor;

/** IEEE binary16 and bfloat16 conversions (Java 17 has neither in the JDK). Round-to-nearest-even. */
public final class Half {
    private Half() {}

    public static float f16ToFloat(short h) {
        int bits = h & 0xFFFF;
        int sign = (bits & 0x8000) << 16;
        int exp = (bits >>> 10) & 0x1F;
        int mant = bits & 0x3FF;
        if (exp == 0x1F) {
            return Float.intBitsToFloat(sign | 0x7F800000 | (mant << 13));
        }
        if (exp == 0) {
            if (mant == 0) return Float.intBitsToFloat(sign);
            // Subnormal half: value = mant * 2^-24, exact in float.
            float v = mant * 0x1p-24f;
            return sign != 0 ? -v : v;
        }
        return Float.intBitsToFloat(sign | ((exp - 15 + 127) << 23) | (mant << 13));
    }

    public static short floatToF16(float f) {
        int bits = Float.floatToRawIntBits(f);
        int sign = (bits >>> 16) & 0x8000;
        int abs = bits & 0x7FFFFFFF;
        if (abs >= 0x7F800000) { // Inf or NaN
            return (short) (sign | 0x7C00 | (abs > 0x7F800000 ? 0x200 : 0));
        }
        if (abs >= 0x477FF000) { // rounds to >= 65520: overflow to Inf
            return (short) (sign | 0x7C00);
        }
        if (abs < 0x38800000) { // below the smallest normal half (2^-14): subnormal or zero
            float a = Float.intBitsToFloat(abs);
            int m = (int) Math.rint(a * 0x1p24f); // exact scaling, ties to even
            return (short) (sign | m);
        }
        int exp = ((abs >>> 23) - 127 + 15);
        int mant = abs & 0x7FFFFF;
        int half = (exp << 10) | (mant >>> 13);
        int rest = mant & 0x1FFF;
        if (rest > 0x1000 || (rest == 0x1000 && (half & 1) != 0)) half++;
        return (short) (sign | half);
    }

    public static float bf16ToFloat(short b) {
        return Float.intBitsToFloat((b & 0xFFFF) << 16);
    }

    public static short floatToBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if ((bits & 0x7FFFFFFF) > 0x7F800000) return (short) ((bits >>> 16) | 0x40); // quiet NaN
        int lsb = (bits >>> 16) & 1;
        return (short) ((bits + 0x7FFF + lsb) >>> 16);
    }
}
