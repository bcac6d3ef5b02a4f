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
}
