package dev.tamp.formats.codec;

/**
 * MXINTk elements: k-bit two's complement q with value q · 2^−(k−2) (MXINT8: 1 sign, 1 integer, 6 fraction
 * bits), symmetric clamp to ±(2^(k−1)−1): the most negative code is decoded but never produced (formats.md §1.3).
 */
public final class MxIntCodec implements ElementCodec {
    private final int k;
    private final int qmax;
    private final double step;
    private final double invStep;

    public MxIntCodec(int k) {
        this.k = k;
        this.qmax = (1 << (k - 1)) - 1;
        this.step = Math.scalb(1.0, -(k - 2));
        this.invStep = Math.scalb(1.0, k - 2);
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

    public int fromInt(int q) {
        return q & ((1 << k) - 1);
    }

    @Override public double decode(int code) { return toInt(code) * step; }

    @Override
    public int encode(double y) {
        if (Double.isNaN(y)) throw new IllegalArgumentException("NaN cannot be encoded");
        double q = Math.rint(y * invStep); // exact: a power-of-two scaling
        q = Math.max(-qmax, Math.min(qmax, q));
        return fromInt((int) q);
    }
}
