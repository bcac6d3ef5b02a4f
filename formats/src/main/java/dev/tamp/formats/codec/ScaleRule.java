package dev.tamp.formats.codec;

import dev.tamp.core.encoding.MxFormat;

/**
 * How a block's shared exponent is chosen (formats.md §1.7); all decode identically. FLOOR is the OCP rule
 * and tamp's default.
 */
public enum ScaleRule {
    /** floor(log2 amax) − emax. */
    FLOOR,
    /** amax rounded to the element's mantissa width first, then FLOOR (bumps the exponent when the max would round up). */
    EVEN,
    /** ceil(log2(amax / max normal)): no element ever saturates. */
    RCEIL;

    /** The unclamped shared exponent of a block with positive, finite {@code amax}. */
    int exponent(double amax, MxFormat f, ElementCodec c) {
        return switch (this) {
            case FLOOR -> Math.getExponent(amax) - c.emax();
            case EVEN -> {
                int mbits = f.isInteger() ? f.bits() - 2 : mantissaBits(f);
                int e = Math.getExponent(amax);
                double rounded = amax + Math.scalb(1.0, e - mbits - 1); // add half an ulp at the element's precision
                yield Math.getExponent(rounded) - c.emax();
            }
            case RCEIL -> {
                double ratio = amax / c.maxValue();
                int e = Math.getExponent(ratio);
                yield ratio == Math.scalb(1.0, e) ? e : e + 1;
            }
        };
    }

    static int mantissaBits(MxFormat f) {
        return switch (f) {
            case MXFP8_E4M3, MXFP6_E2M3 -> 3;
            case MXFP8_E5M2, MXFP6_E3M2 -> 2;
            case MXFP4_E2M1 -> 1;
            default -> 0;
        };
    }
}
