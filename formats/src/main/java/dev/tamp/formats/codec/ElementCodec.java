package dev.tamp.formats.codec;

/**
 * One MX element format: a code ↔ value map with the element's emax (exponent of its largest normal).
 * {@link #encode} takes a value already divided by the block scale and returns the nearest code, ties to even,
 * saturating to ±max (never producing Inf/NaN for finite input) and writing zero as code 0 (+0).
 */
public interface ElementCodec {
    int bits();

    int emax();

    /** Largest finite magnitude. */
    double maxValue();

    double decode(int code);

    int encode(double y);

    /**
     * The same result as {@link #encode(double)} for a float input, computed on the float's bits (the hot path of
     * block conversion). Implementations are tested equal to {@code encode} over random and edge inputs.
     */
    default int encodeFloat(float y) {
        return encode(y);
    }
}
