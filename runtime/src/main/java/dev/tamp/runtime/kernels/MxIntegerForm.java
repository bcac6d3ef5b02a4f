package dev.tamp.runtime.kernels;

import dev.tamp.core.encoding.MxFormat;
import dev.tamp.formats.codec.ElementCodec;
import dev.tamp.formats.codec.ElementCodecs;

/**
 * An MX element format as the integer kernels take it (formats.md §1.3, §6.4): every element value times 2^shift is an
 * integer i, and code − zero = i for the code the kernels read. 4-bit formats reach that code through a 16-entry
 * table (MXFP4: the doubled E2M1 values {0, 1, 2, 3, 4, 6, 8, 12} and their negatives, plus 12 — ggml's MXFP4 table
 * shifted to be unsigned for VPDPBUSD); MXINT8's two's complement bytes are the kernels' signed 8-bit codes
 * (flipped, zero 128). Derived from the element codec, so a format is taken only where the embedding is exact.
 *
 * @param shift t: the block's E8M0 scale times 2^−t is the kernels' group scale
 * @param zero  the offset that the kernels subtract (as a zero point)
 * @param table 4-bit formats: the code of each nibble value; null for 8-bit formats
 */
record MxIntegerForm(int shift, int zero, byte[] table) {
    /** The largest table entry the AVX2 kernels take (VPMADDUBSW pairs of 127·127 fit int16). */
    private static final int MAX_CODE = 127;

    /** The integer form of {@code f}, or null where its values are not small integers times one power of two. */
    static MxIntegerForm of(MxFormat f) {
        ElementCodec c = ElementCodecs.of(f);
        int codes = 1 << f.bits();
        if (f.bits() != 4 && f.bits() != 8) return null; // 6-bit codes straddle bytes: not a kernel layout
        for (int shift = 0; shift <= 8; shift++) {
            long[] ints = integers(c, codes, shift);
            if (ints == null) continue;
            if (f.bits() == 8) {
                for (int code = 0; code < codes; code++) if (ints[code] != (byte) code) return null; // only two's complement bytes
                return new MxIntegerForm(shift, 128, null);
            }
            long min = Long.MAX_VALUE, max = Long.MIN_VALUE;
            for (long v : ints) {
                min = Math.min(min, v);
                max = Math.max(max, v);
            }
            if (max - min > MAX_CODE) return null;
            byte[] table = new byte[codes];
            for (int code = 0; code < codes; code++) table[code] = (byte) (ints[code] - min);
            return new MxIntegerForm(shift, (int) -min, table);
        }
        return null;
    }

    /** Each code's value times 2^shift, or null when one is not a finite integer. */
    private static long[] integers(ElementCodec c, int codes, int shift) {
        long[] out = new long[codes];
        for (int code = 0; code < codes; code++) {
            double v = Math.scalb(c.decode(code), shift);
            if (!Double.isFinite(v) || v != Math.rint(v)) return null;
            out[code] = (long) v;
        }
        return out;
    }
}
