package dev.tamp.formats.codec;

import dev.tamp.core.encoding.MxFormat;
import java.util.Arrays;

/**
 * Slice-and-Scale (Xu, Sharify, Mostafa, "MF-QAT", arXiv 2604.00529; formats.md §2): converts the codes and
 * scales of an anchor MX block (MXINT8 or MXFP8) to a lower-precision MX format, never touching FP32 weights.
 * <ul>
 *   <li>MXINT8 → MXINTk (§2.2): every MXINTk has emax 0, so the shared scale byte is kept; each element drops
 *       its 8−k low bits with round-half-to-even and saturates to ±(2^(k−1)−1) ("slice"; the implicit element
 *       scale grows by 2^(8−k), "scale").</li>
 *   <li>Every other pair (MXFP8 → MXFP6/MXFP4, and across families) (§2.3): the OCP conversion of §1.4 (FLOOR
 *       scale, RNE elements) applied to the exactly decoded anchor block, in integers: each anchor element is
 *       sign × significand × 2^(exponent + anchor scale); the target scale is floor(log2 amax) − emax_target,
 *       which re-bases the exponent; the significand is rounded by the target's exact rounding routine.</li>
 * </ul>
 * A NaN anchor scale, or an anchor element that is NaN/Inf, gives a NaN block (scale 0xFF, codes 0); an all-zero
 * anchor block gives scale 0x00. Slicing a format to itself is the identity. Rule id in packs: "sas-rne-v1".
 */
public final class SliceAndScale {
    public static final String RULE = "sas-rne-v1";

    private SliceAndScale() {}

    public static boolean isAnchor(MxFormat f) {
        return f == MxFormat.MXINT8 || f == MxFormat.MXFP8_E4M3 || f == MxFormat.MXFP8_E5M2;
    }

    /**
     * Converts one block of n elements: anchor codes (unpacked) and scale byte → target codes written to out and
     * the returned target scale byte.
     */
    public static int sliceBlock(MxFormat from, int[] codes, int codesOff, int scaleByte, MxFormat to, int[] out, int outOff, int n) {
        scaleByte &= 0xFF;
        if (from == to) {
            System.arraycopy(codes, codesOff, out, outOff, n);
            return scaleByte;
        }
        if (from.isInteger() && to.isInteger()) {
            if (to.bits() > from.bits()) throw new IllegalArgumentException("cannot slice " + from + " up to " + to);
            sliceInteger((MxIntCodec) ElementCodecs.of(from), (MxIntCodec) ElementCodecs.of(to), codes, codesOff, out, outOff, n);
            return scaleByte;
        }
        ElementCodec a = ElementCodecs.of(from), t = ElementCodecs.of(to);
        if (scaleByte == E8M0.NAN) return nanBlock(out, outOff, n);
        // floor(log2 amax) of the decoded block = the largest floor(log2 |v_i|), relative to the anchor scale
        int top = Integer.MIN_VALUE;
        for (int i = 0; i < n; i++) {
            int c = codes[codesOff + i];
            if (!a.isFinite(c)) return nanBlock(out, outOff, n);
            long s = a.significandOf(c);
            if (s != 0) top = Math.max(top, 63 - Long.numberOfLeadingZeros(s) + a.exponentOf(c));
        }
        if (top == Integer.MIN_VALUE) {
            Arrays.fill(out, outOff, outOff + n, 0);
            return 0;
        }
        int anchorExp = scaleByte - 127;
        int target = E8M0.encode(anchorExp + top - t.emax());
        int rebase = anchorExp - (target - 127);
        for (int i = 0; i < n; i++) {
            int c = codes[codesOff + i];
            out[outOff + i] = t.encode(a.isNegative(c), a.significandOf(c), a.exponentOf(c) + rebase);
        }
        return target;
    }

    /** §2.2: t = RNE(q / 2^d), clamped to ±qmax of the target (d = difference of widths). */
    static void sliceInteger(MxIntCodec a, MxIntCodec t, int[] codes, int codesOff, int[] out, int outOff, int n) {
        int d = a.bits() - t.bits(), half = 1 << (d - 1), mask = (1 << d) - 1;
        for (int i = 0; i < n; i++) {
            int q = a.toInt(codes[codesOff + i]);
            int tq = q >> d, r = q & mask; // arithmetic shift = floor; r is the non-negative remainder
            if (r > half || (r == half && (tq & 1) != 0)) tq++;
            out[outOff + i] = t.fromInt(Math.max(-t.qmax(), Math.min(t.qmax(), tq)));
        }
    }

    private static int nanBlock(int[] out, int outOff, int n) {
        Arrays.fill(out, outOff, outOff + n, 0);
        return E8M0.NAN;
    }
}
