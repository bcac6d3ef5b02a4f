package dev.tamp.formats.codec;

/**
 * MXINTk elements: k-bit two's complement q with value q · 2^−(k−2) (MXINT8: 1 sign, 1 integer, 6 fraction
 * bits), symmetric clamp to ±(2^(k−1)−1): the most negative code is decoded (MXINT8 0x80 = −2.0) but never
 * produced (formats.md §1.3).
 */
public final class MxIntCodec implements ElementCodec {
    private final int k;
    private final int qmax;
    private final double step;
    private final float invStep;

    public MxIntCodec(int k) {
        if (k < 2 || k > 8) throw new IllegalArgumentException("MXINT" + k + " is not supported");
        this.k = k;
        this.qmax = (1 << (k - 1)) - 1;
        this.step = Math.scalb(1.0, -(k - 2));
        this.invStep = Math.scalb(1.0f, k - 2);
    }

    @Override public int bits() { return k; }

    @Override public int emax() { return 0; }

    @Override public double maxValue() { return qmax * step; }

    public int qmax() { return qmax; }

    /** The signed integer of a code. */
    public int toInt(int code) {
        int c = code & ((1 << k) - 1);
        return c >= (1 << (k - 1)) ? c - (1 << k) : c;
    }

    /** The code of a signed integer (two's complement, k bits). */
    public int fromInt(int q) {
        return q & ((1 << k) - 1);
    }

    @Override public double decode(int code) { return toInt(code) * step; }

    @Override public long significandOf(int code) { return Math.abs(toInt(code)); }

    @Override public int exponentOf(int code) { return -(k - 2); }

    @Override public boolean isNegative(int code) { return toInt(code) < 0; }

    @Override
    public int encode(boolean negative, long significand, int exponent) {
        long q = MiniFloatCodec.roundToMultiple(significand, -(k - 2) - exponent, qmax);
        return fromInt((int) (negative ? -q : q));
    }

    @Override
    public int encodeFloat(float y) {
        if (Float.isNaN(y)) throw new IllegalArgumentException("NaN cannot be encoded");
        return encodeFinite(y);
    }

    /**
     * {@link #encodeFloat} without the NaN check: y · 2^(k−2) is exact in float; clamping to the integer bounds
     * before rounding equals clamping after; adding 1.5·2^23 makes the FPU round half to even, and the integer
     * is the bit distance to that constant.
     */
    int encodeFinite(float y) {
        float v = Math.max(-qmax, Math.min(qmax, y * invStep));
        return fromInt(Float.floatToRawIntBits(v + ROUNDER) - ROUNDER_BITS);
    }

    private static final float ROUNDER = 12582912f; // 1.5 · 2^23
    private static final int ROUNDER_BITS = Float.floatToRawIntBits(ROUNDER);
}
