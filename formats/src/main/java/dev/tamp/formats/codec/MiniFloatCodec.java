package dev.tamp.formats.codec;

/**
 * Small floating-point element formats (FP8 E4M3/E5M2, FP6 E3M2/E2M3, FP4 E2M1; formats.md §1.3): sign,
 * {@code ebits} exponent bits with bias 2^(ebits−1)−1, {@code mbits} mantissa bits, subnormals. E4M3 keeps the
 * all-ones exponent for finite values except mantissa 111 (NaN); E5M2 reserves it for Inf/NaN as IEEE does;
 * the others have no special codes. Codes of positive values grow with the value, and every value that rounds
 * beyond the largest finite one lands on a larger code: saturation is a clamp of the code.
 */
public final class MiniFloatCodec implements ElementCodec {
    /** Which encodings of the all-ones exponent are special. */
    public enum Special { NONE, E4M3_NAN, IEEE }

    private final int ebits;
    private final int mbits;
    private final int bias;
    private final int emin;
    private final int emax;
    private final int maxCode;
    private final int signShift;
    private final double maxValue;
    private final double[] table;
    // float fast path (encodeFinite)
    private final int shift;
    private final int roundBias;
    private final int rebias;
    private final int minNormalBits;
    private final float magic;
    private final int magicBits;

    public MiniFloatCodec(int ebits, int mbits, Special special) {
        if (ebits < 2 || ebits > 5 || mbits < 1 || mbits > 3) throw new IllegalArgumentException("unsupported E" + ebits + "M" + mbits);
        this.ebits = ebits;
        this.mbits = mbits;
        this.bias = (1 << (ebits - 1)) - 1;
        this.emin = 1 - bias;
        int maxE = (1 << ebits) - 1;
        int topE = special == Special.IEEE ? maxE - 1 : maxE;
        int topM = special == Special.E4M3_NAN ? (1 << mbits) - 2 : (1 << mbits) - 1;
        this.emax = topE - bias;
        this.maxCode = (topE << mbits) | topM;
        this.signShift = ebits + mbits;
        this.maxValue = Math.scalb(1.0 + topM / (double) (1 << mbits), emax);
        this.table = new double[1 << bits()];
        for (int c = 0; c < table.length; c++) {
            int e = (c >>> mbits) & maxE, m = c & ((1 << mbits) - 1);
            double v;
            if (special == Special.IEEE && e == maxE) v = m == 0 ? Double.POSITIVE_INFINITY : Double.NaN;
            else if (special == Special.E4M3_NAN && e == maxE && m == (1 << mbits) - 1) v = Double.NaN;
            else v = Math.scalb((double) significand(e, m), exponent(e));
            table[c] = (c >>> signShift) != 0 ? -v : v;
        }
        this.shift = 23 - mbits;
        this.roundBias = (1 << (shift - 1)) - 1;
        this.rebias = (127 - bias) << mbits;
        this.minNormalBits = (emin + 127) << 23;
        this.magic = Math.scalb(1.0f, emin - mbits + 23); // its ulp is the element's subnormal quantum
        this.magicBits = Float.floatToRawIntBits(magic);
    }

    @Override public int bits() { return 1 + ebits + mbits; }

    public int mantissaBits() { return mbits; }

    @Override public int emax() { return emax; }

    @Override public double maxValue() { return maxValue; }

    @Override public double decode(int code) { return table[code & ((1 << bits()) - 1)]; }

    private long significand(int e, int m) { return e == 0 ? m : m | (1L << mbits); }

    private int exponent(int e) { return (e == 0 ? emin : e - bias) - mbits; }

    @Override public long significandOf(int code) {
        return significand((code >>> mbits) & ((1 << ebits) - 1), code & ((1 << mbits) - 1));
    }

    @Override public int exponentOf(int code) { return exponent((code >>> mbits) & ((1 << ebits) - 1)); }

    @Override public boolean isNegative(int code) { return ((code >>> signShift) & 1) != 0; }

    @Override
    public int encode(boolean negative, long significand, int exponent) {
        if (significand == 0) return 0;
        int e = 63 - Long.numberOfLeadingZeros(significand) + exponent; // floor(log2 |value|)
        int code;
        if (e > emax) {
            code = maxCode;
        } else {
            int quantumExp = Math.max(e, emin) - mbits; // subnormals share the smallest normal binade's quantum
            long q = roundToMultiple(significand, quantumExp - exponent, Long.MAX_VALUE);
            if (e < emin) {
                code = (int) q; // subnormal; a carry to 2^mbits is exactly the smallest normal's code
            } else {
                if (q == 2L << mbits) { // the mantissa carried into the next binade
                    q >>>= 1;
                    e++;
                }
                code = ((e + bias) << mbits) + (int) (q - (1L << mbits));
            }
            code = Math.min(code, maxCode);
        }
        if (code == 0) return 0;
        return negative ? code | (1 << signShift) : code;
    }

    /** min(cap, RNE(s / 2^sh)) for 0 ≤ s < 2^62 (sh ≤ 0 multiplies exactly, saturating at cap). */
    static long roundToMultiple(long s, int sh, long cap) {
        if (sh <= 0) return -sh >= 63 || s > (cap >>> -sh) ? cap : s << -sh;
        if (sh >= 63) return 0; // s < 2^62 is below half a quantum
        long q = s >>> sh, rem = s & ((1L << sh) - 1), half = 1L << (sh - 1);
        if (rem > half || (rem == half && (q & 1) != 0)) q++;
        return Math.min(cap, q);
    }

    @Override
    public int encodeFloat(float y) {
        if (Float.isNaN(y)) throw new IllegalArgumentException("NaN cannot be encoded");
        return encodeFinite(y);
    }

    /**
     * {@link #encodeFloat} without the NaN check (±Inf saturate). Normal range: round half to even on the
     * float's bits (add 0111..1 plus the kept LSB, then shift; a mantissa carry moves into the exponent) and
     * re-bias the exponent. Element-subnormal range: adding a float whose ulp is the element's subnormal quantum
     * makes the FPU round (ties to even); the code is the bit distance to that float.
     */
    int encodeFinite(float y) {
        int bits = Float.floatToRawIntBits(y);
        int abs = bits & 0x7FFFFFFF;
        int normal = Math.min(((abs + roundBias + ((abs >>> shift) & 1)) >>> shift) - rebias, maxCode);
        int sub = Float.floatToRawIntBits(Float.intBitsToFloat(abs) + magic) - magicBits;
        // branch-free selects: small elements mix both ranges unpredictably (half of an MXFP4 block is subnormal)
        int isSub = (abs - minNormalBits) >> 31; // all ones when abs < 2^emin
        int code = (sub & isSub) | (normal & ~isSub);
        int nonZero = (code | -code) >>> 31;
        return code | ((bits >>> 31) & nonZero) << signShift;
    }
}
