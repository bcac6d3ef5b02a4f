package dev.tamp.formats.codec;

/**
 * The round-to-nearest integer grid of {@link IntGroupCodec}, one step at a time: the scale and zero point of a group
 * from its value range, and the code of one value on that grid. The codec quantizes whole groups with it; GPTQ codes
 * one column at a time while its weights are still being updated. Values may arrive in float64 and are rounded to
 * float first, so each step is exactly what the codec computes for the float weight (rounding is monotone, so the
 * float of a double range is the range of the floats): what GPTQ stores decodes, through the codec, to the values it
 * fed its error back from.
 */
public final class IntGrid {
    public final int bits;
    public final boolean symmetric;
    private final int qmax, lowest;

    public IntGrid(int bits, boolean symmetric) {
        if (bits != 4 && bits != 8) throw new IllegalArgumentException("only 4- and 8-bit groups are supported, not " + bits);
        this.bits = bits;
        this.symmetric = symmetric;
        this.qmax = symmetric ? (1 << (bits - 1)) - 1 : (1 << bits) - 1;
        this.lowest = symmetric ? -qmax : 0;
    }

    /** The lowest code: −(2^(b−1)−1) symmetric, 0 asymmetric. */
    public int lowest() { return lowest; }

    /** The highest code: 2^(b−1)−1 symmetric, 2^b−1 asymmetric. */
    public int highest() { return qmax; }

    /** Δ of a group whose values span [lo, hi]: absmax over 2^(b−1)−1, or the range widened to 0 over 2^b−1. */
    public float scale(double lo, double hi) {
        float l = (float) lo, h = (float) hi;
        if (symmetric) return (float) (Math.max(Math.max(-l, h), 1e-5) / qmax);
        l = Math.min(l, 0);
        h = Math.max(h, 0);
        return (float) (Math.max((double) h - l, 1e-5) / qmax);
    }

    /** The integer zero point of an asymmetric group (0 for a symmetric one). */
    public int zero(double lo, float scale) {
        if (symmetric) return 0;
        float l = Math.min((float) lo, 0);
        return (int) Math.max(0, Math.min(qmax, -Math.rint(l / (double) scale)));
    }

    /** The code of v: RNE(v/Δ) + zero, clamped to the grid. */
    public int code(double v, float scale, int zero) {
        return (int) Math.max(lowest, Math.min(qmax, Math.rint((float) v / (double) scale) + zero));
    }

    /** The value a code decodes to, with the codec's float arithmetic. */
    public static float decode(int q, float scale, int zero) {
        return (q - zero) * scale;
    }

    /** The code as stored: the byte itself at 8 bits, an unsigned nibble (symmetric ones offset by 8) at 4. */
    public int stored(int q) {
        return bits == 8 ? q & 0xFF : (symmetric ? q + 8 : q) & 0xF;
    }
}
