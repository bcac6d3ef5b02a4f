package dev.tamp.formats.codec;

/**
 * The E8M0 shared scale: byte b in 0..254 is 2^(b−127), 0xFF is NaN; no zero, no infinity. Decoding with
 * Math.scalb is exact for every byte, including 0x00 = 2^−127, an FP32 subnormal (formats.md §1.2).
 */
public final class E8M0 {
    public static final int NAN = 0xFF;

    private E8M0() {}

    public static float decode(int b) {
        int v = b & 0xFF;
        return v == NAN ? Float.NaN : Math.scalb(1.0f, v - 127);
    }

    /** The byte of 2^exponent, with the exponent clamped to [−127, 127]. */
    public static int encode(int exponent) {
        return Math.max(-127, Math.min(127, exponent)) + 127;
    }
}
