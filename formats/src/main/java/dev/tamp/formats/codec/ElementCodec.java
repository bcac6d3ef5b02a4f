package dev.tamp.formats.codec;

/**
 * One MX element format: a code ↔ value map with the element's emax (exponent of its largest normal).
 * Encoding takes a value already divided by the block scale and returns the nearest code with ties to even,
 * saturating to ±max (never producing Inf/NaN for finite input) and writing zero as code 0 (+0), formats.md §1.4.
 *
 * <p>All encoders funnel into one exact rounding routine, {@link #encode(boolean, long, int)}, which takes the
 * value as sign × integer significand × 2^exponent (§1.8): FP32/FP64 inputs (24/53-bit significands) and
 * Slice-and-Scale inputs (an anchor element's few-bit significand) therefore round identically.
 */
public interface ElementCodec {
    int bits();

    int emax();

    /** Largest finite magnitude. */
    double maxValue();

    /** The value of a code (NaN/±Inf for the special codes of E4M3 and E5M2). */
    double decode(int code);

    /** Whether a code stands for a finite value. */
    default boolean isFinite(int code) {
        return Double.isFinite(decode(code));
    }

    /** The integer significand s of a finite code: |value| = s · 2^{@link #exponentOf}. */
    long significandOf(int code);

    /** The binary exponent that goes with {@link #significandOf}. */
    int exponentOf(int code);

    /** Whether a finite code is negative (−0 included). */
    boolean isNegative(int code);

    /**
     * The code of (−1)^negative · significand · 2^exponent, rounded to the element grid with ties to even,
     * saturated at the largest finite value; zero is code 0. {@code significand} must be ≥ 0 and below 2^62.
     */
    int encode(boolean negative, long significand, int exponent);

    /** The code of a double. NaN is refused; ±Inf saturate like any value beyond the largest finite one. */
    default int encode(double y) {
        if (Double.isNaN(y)) throw new IllegalArgumentException("NaN cannot be encoded");
        long bits = Double.doubleToRawLongBits(y);
        boolean negative = bits < 0;
        if (Double.isInfinite(y)) return encode(negative, 1, 4096);
        int e = (int) ((bits >>> 52) & 0x7FF);
        long m = bits & 0xF_FFFF_FFFF_FFFFL;
        return e == 0 ? encode(negative, m, -1074) : encode(negative, m | (1L << 52), e - 1075);
    }

    /**
     * The same result as {@link #encode(double)} for a float input, computed with a few integer and float
     * operations and no branches on the value's range (the hot path of block conversion). Tested equal to the
     * exact routine over every float class. NaN is refused.
     */
    default int encodeFloat(float y) {
        return encode(y);
    }
}
