package dev.tamp.formats.codec;

import dev.tamp.core.encoding.MxFormat;

/**
 * Slice-and-Scale (Xu, Sharify, Mostafa, "MF-QAT", arXiv 2604.00529; formats.md §2): converts the codes and
 * scales of an anchor MX block (MXINT8 or MXFP8) to a lower-precision MX format without the FP32 weights.
 * <ul>
 *   <li>MXINT8 → MXINTk: the shared scale is kept (every MXINTk has emax 0); each element drops its 8−k low bits
 *       with round-half-to-even and saturates to ±(2^(k−1)−1).</li>
 *   <li>Any other pair (MXFP8 → MXFP6/MXFP4, and across families): the anchor block is decoded exactly and the
 *       OCP conversion (FLOOR scale, RNE elements) is applied to the decoded values, which re-bases the scale.</li>
 * </ul>
 * Rule id recorded in packs: "sas-rne-v1".
 */
public final class SliceAndScale {
    public static final String RULE = "sas-rne-v1";

    private SliceAndScale() {}

    public static boolean isAnchor(MxFormat f) {
        return f == MxFormat.MXINT8 || f == MxFormat.MXFP8_E4M3 || f == MxFormat.MXFP8_E5M2;
    }

    /**
     * Converts one block: anchor element codes (unpacked) and scale byte → target codes (written to out) and the
     * returned target scale byte.
     */
    public static int sliceBlock(MxFormat from, int[] codes, int codesOff, int scaleByte, MxFormat to, int[] out, int outOff, int n) {
        if (from == to) {
            System.arraycopy(codes, codesOff, out, outOff, n);
            return scaleByte;
        }
        if (from.isInteger() && to.isInteger()) {
            MxIntCodec a = (MxIntCodec) ElementCodecs.of(from), t = (MxIntCodec) ElementCodecs.of(to);
            int d = from.bits() - to.bits();
            if (d < 0) throw new IllegalArgumentException("cannot slice " + from + " up to " + to);
            int half = 1 << (d - 1), mask = (1 << d) - 1;
            for (int i = 0; i < n; i++) {
                int q = a.toInt(codes[codesOff + i]);
                int tq = q >> d, r = q & mask;
                if (r > half || (r == half && (tq & 1) != 0)) tq++;
                tq = Math.max(-t.qmax(), Math.min(t.qmax(), tq));
                out[outOff + i] = t.fromInt(tq);
            }
            return scaleByte;
        }
        ElementCodec a = ElementCodecs.of(from), t = ElementCodecs.of(to);
        if ((scaleByte & 0xFF) == E8M0.NAN) {
            java.util.Arrays.fill(out, outOff, outOff + n, 0);
            return E8M0.NAN;
        }
        double scale = Math.scalb(1.0, (scaleByte & 0xFF) - 127);
        double amax = 0;
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = a.decode(codes[codesOff + i]) * scale;
            if (Double.isNaN(v[i]) || Double.isInfinite(v[i])) {
                java.util.Arrays.fill(out, outOff, outOff + n, 0);
                return E8M0.NAN;
            }
            amax = Math.max(amax, Math.abs(v[i]));
        }
        if (amax == 0) {
            java.util.Arrays.fill(out, outOff, outOff + n, 0);
            return 0;
        }
        int target = E8M0.encode(ScaleRule.FLOOR.exponent(amax, to, t));
        double inv = Math.scalb(1.0, -(target - 127));
        // v·2^−se is exact in double and, being a scaled target-range value, exactly a float: use the fast path
        for (int i = 0; i < n; i++) out[outOff + i] = t.encodeFloat((float) (v[i] * inv));
        return target;
    }
}
