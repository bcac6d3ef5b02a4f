package dev.tamp.formats.codec;

/**
 * Small floating-point element formats (FP8 E4M3/E5M2, FP6 E3M2/E2M3, FP4 E2M1; formats.md §1.3): sign,
 * {@code ebits} exponent bits with bias 2^(ebits−1)−1, {@code mbits} mantissa bits, subnormals. E4M3 keeps the
 * all-ones exponent for finite values except mantissa 111 (NaN); E5M2 reserves it for Inf/NaN as IEEE does;
 * the others have no special codes. Rounding works on exact doubles: every scaling is by a power of two.
 */
public final class MiniFloatCodec implements ElementCodec {
    public enum Special { NONE, E4M3_NAN, IEEE }

    private final int ebits;
    private final int mbits;
    private final int bias;
    private final int emax;
    private final Special special;
    private final double maxValue;
    private final double minNormal;
    private final double[] table;
    private final int emin;
    private final int maxCode;

    public MiniFloatCodec(int ebits, int mbits, Special special) {
        this.ebits = ebits;
        this.mbits = mbits;
        this.bias = (1 << (ebits - 1)) - 1;
        this.special = special;
        int maxE = (1 << ebits) - 1;
        int topE = special == Special.IEEE ? maxE - 1 : maxE;
        int topM = special == Special.E4M3_NAN ? (1 << mbits) - 2 : (1 << mbits) - 1;
        this.emax = topE - bias;
        this.maxValue = Math.scalb(1.0 + topM / (double) (1 << mbits), emax);
        this.minNormal = Math.scalb(1.0, 1 - bias);
        this.emin = 1 - bias;
        this.maxCode = (topE << mbits) | topM;
        this.table = new double[1 << bits()];
        for (int c = 0; c < table.length; c++) table[c] = decodeSlow(c);
    }

    @Override public int bits() { return 1 + ebits + mbits; }

    @Override public int emax() { return emax; }

    @Override public double maxValue() { return maxValue; }

    @Override public double decode(int code) { return table[code & ((1 << bits()) - 1)]; }

    private double decodeSlow(int code) {
        int sign = (code >>> (ebits + mbits)) & 1;
        int e = (code >>> mbits) & ((1 << ebits) - 1);
        int m = code & ((1 << mbits) - 1);
        int maxE = (1 << ebits) - 1;
        double v;
        if (special == Special.IEEE && e == maxE) {
            v = m == 0 ? Double.POSITIVE_INFINITY : Double.NaN;
        } else if (special == Special.E4M3_NAN && e == maxE && m == (1 << mbits) - 1) {
            v = Double.NaN;
        } else if (e == 0) {
            v = Math.scalb(m / (double) (1 << mbits), 1 - bias);
        } else {
            v = Math.scalb(1.0 + m / (double) (1 << mbits), e - bias);
        }
        return sign == 1 ? -v : v;
    }

    @Override
    public int encode(double y) {
        if (Double.isNaN(y)) throw new IllegalArgumentException("NaN cannot be encoded");
        int signBit = 1 << (ebits + mbits);
        double a = Math.abs(y);
        // Quantum of the binade a falls in (subnormals share the smallest normal binade's quantum).
        int e = a >= minNormal ? Math.getExponent(a) : 1 - bias;
        if (a >= minNormal && e > emax) e = emax;
        double quantum = Math.scalb(1.0, e - mbits);
        double r = Math.rint(a / quantum) * quantum; // exact; rint = ties to even
        if (r > maxValue) r = maxValue;                // saturate (also catches rounding past max normal)
        if (r == 0) return 0;                          // zero is always +0
        int code = codeOf(r);
        return y < 0 ? code | signBit : code;
    }

    /**
     * Integer-only rounding of a float to this format: keep {@code mbits} mantissa bits (fewer below the smallest
     * normal), round half to even on the dropped bits, let a carry bump the exponent, then saturate by clamping
     * the code (codes grow with magnitude, and every overflow lands above the largest finite code).
     */
    @Override
    public int encodeFloat(float y) {
        int bits = Float.floatToRawIntBits(y);
        int abs = bits & 0x7FFFFFFF;
        if (abs >= 0x7F800000) {
            if (abs > 0x7F800000) throw new IllegalArgumentException("NaN cannot be encoded");
            return (bits < 0 ? 1 << (ebits + mbits) : 0) | maxCode;
        }
        if (abs < 0x00800000) return 0; // FP32 subnormals are far below every element's smallest subnormal
        int e = (abs >>> 23) - 127;
        int shift = 23 - mbits + (e < emin ? emin - e : 0);
        if (shift > 24) return 0;
        int mant = (abs & 0x7FFFFF) | 0x800000;
        int q = mant >>> shift;
        int rem = mant & ((1 << shift) - 1), half = 1 << (shift - 1);
        if (rem > half || (rem == half && (q & 1) != 0)) q++;
        int code;
        if (e < emin) {
            code = q; // subnormal; a carry into 2^mbits is exactly the smallest normal's code
        } else {
            if (q == 2 << mbits) {
                q >>>= 1;
                e++;
            }
            code = ((e + bias) << mbits) + (q - (1 << mbits));
        }
        if (code == 0) return 0;
        code = Math.min(code, maxCode);
        return bits < 0 ? code | (1 << (ebits + mbits)) : code;
    }

    /** Code of a representable positive value. */
    private int codeOf(double r) {
        if (r < minNormal) {
            return (int) (r / Math.scalb(1.0, 1 - bias - mbits));
        }
        int e = Math.getExponent(r);
        int m = (int) ((r / Math.scalb(1.0, e) - 1.0) * (1 << mbits));
        return ((e + bias) << mbits) | m;
    }
}
