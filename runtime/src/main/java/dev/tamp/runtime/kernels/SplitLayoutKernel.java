package dev.tamp.runtime.kernels;

import dev.tamp.core.encoding.IntGroupedWeight;
import dev.tamp.core.encoding.Layout;
import dev.tamp.core.encoding.MxFormat;
import dev.tamp.core.encoding.MxWeight;
import dev.tamp.formats.codec.E8M0;
import dev.tamp.formats.codec.PackLayouts;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The fast kernel for weights packed for this host's vector width (formats.md §3.7): INT4 and MXFP4 codes in the
 * nibble-split layout whose span W equals the preferred vector size, and INT8 codes in W-aligned rows. A run of L
 * codes (L float lanes) is one L-byte load widened to int lanes; AND 0x0F gives the low-nibble codes of elements
 * j.., SHR 4 the high-nibble codes of elements j+W.., both already in activation order; the codes become weights
 * with the same float operations as the GENERIC decoder ((q − zero)·scale; E2M1 value·2^(e−127)), so decoded
 * weights are bit-identical to it.
 * <ul>
 *   <li>Few activation rows (GEMV): two output rows per pass (INT4, INT8), several fused multiply-add chains over K
 *       straight from the codes, never materialising a weight row; the sum order differs from the GEMM's.</li>
 *   <li>More rows: {@link TiledDecodeKernel} with this vector row decoder, the same tiles (or whole-weight BLAS
 *       product) as the GENERIC path, hence bit-identical outputs.</li>
 * </ul>
 * Groups must be a power of two (indexed by shift) or one per row; the K tail past the last whole chunk runs scalar.
 * Other group sizes take the portable path.
 */
final class SplitLayoutKernel implements LinearKernel {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Byte> B = L == 8 ? ByteVector.SPECIES_64 : L == 16 ? ByteVector.SPECIES_128 : null;
    /** Activation rows up to which the GEMV path runs. */
    static final int GEMV_MAX_ROWS = 4;

    private enum Kind { INT4, INT8, MXFP4 }

    private final Kind kind;
    private final byte[] codes;
    private final int rowBytes;
    private final float[] scales;  // [n][groups]
    private final float[] zeros;   // [n][groups] zero point as float (INT), null for MX
    private final float[] offsets; // [n][groups] −zero·scale (INT): the GEMV forms a weight as q·scale + offset, one FMA
    private final int groups;
    private final int groupShift;  // log2(group), or 31 for one group a row
    private final int span;        // W: bytes per chunk (4-bit), 0 for 8-bit rows
    private final int spanShift;   // log2(W)
    private final boolean signed8;
    private final int n;
    private final int k;
    private final TiledDecodeKernel tiled;

    private SplitLayoutKernel(Kind kind, byte[] codes, int rowBytes, float[] scales, float[] zeros, int group, int span,
                              boolean signed8, int n, int k) {
        this.kind = kind;
        this.codes = codes;
        this.rowBytes = rowBytes;
        this.scales = scales;
        this.zeros = zeros;
        this.offsets = zeros == null ? null : new float[zeros.length];
        if (zeros != null) for (int i = 0; i < zeros.length; i++) offsets[i] = -zeros[i] * scales[i];
        this.groups = (k + group - 1) / group;
        this.groupShift = group >= k ? 31 : Integer.numberOfTrailingZeros(group);
        this.span = span;
        this.spanShift = Integer.numberOfTrailingZeros(Math.max(span, 1));
        this.signed8 = signed8;
        this.n = n;
        this.k = k;
        this.tiled = TiledDecodeKernel.of(this::decodeRow, n, k);
    }

    /** The nibble-split layout this host's fast kernel reads, or null when the host has no matching vector width. */
    static Layout hostLayout() {
        return B == null ? null : PackLayouts.splitForVectorBytes(F.vectorByteSize());
    }

    /** Whether a weight in layout {@code l} with these group and K sizes runs on the fast kernel here. */
    private static boolean fits(Layout l, int bits, int group, int k) {
        if (B == null || l != hostLayout()) return false;
        return group >= k || Integer.bitCount(group) == 1 && group >= L; // group index by shift in the inner loops
    }

    /** The fast kernel for an int-group weight, or null when it is not laid out for this host. */
    static SplitLayoutKernel of(IntGroupedWeight w) {
        int n = Math.toIntExact(w.rows()), k = Math.toIntExact(w.cols());
        if (!fits(w.layout(), w.bits(), w.groupSize(), k)) return null;
        float[] s = w.scales().toFloatArray();
        float[] z = new float[s.length];
        if (w.zeroPoints() != null) {
            java.nio.ByteBuffer zp = w.zeroPoints().data();
            for (int i = 0; i < z.length; i++) z[i] = zp.get(i) & 0xFF;
        } else if (w.bits() == 4) {
            java.util.Arrays.fill(z, 8f);
        }
        int rb = Math.toIntExact(PackLayouts.rowBytes(w.layout(), w.bits(), k));
        return new SplitLayoutKernel(w.bits() == 4 ? Kind.INT4 : Kind.INT8, bytes(w.codes(), n, rb), rb, s, z, w.groupSize(),
                w.bits() == 4 ? PackLayouts.span(w.layout()) : 0, w.symmetric(), n, k);
    }

    /** The fast kernel for an MXFP4 weight, or null when it is not MXFP4 laid out for this host. */
    static SplitLayoutKernel of(MxWeight w) {
        int n = Math.toIntExact(w.rows()), k = Math.toIntExact(w.cols());
        if (w.format() != MxFormat.MXFP4_E2M1 || !fits(w.layout(), 4, w.blockSize(), k)) return null;
        int blocks = Math.toIntExact(w.blocksPerRow());
        float[] s = new float[n * blocks];
        for (int i = 0; i < s.length; i++) s[i] = E8M0.decode(w.scales().get(i));
        int rb = Math.toIntExact(PackLayouts.rowBytes(w.layout(), 4, w.paddedCols()));
        return new SplitLayoutKernel(Kind.MXFP4, bytes(w.codes(), n, rb), rb, s, null, w.blockSize(), PackLayouts.span(w.layout()), false, n, k);
    }

    private static byte[] bytes(java.nio.ByteBuffer b, int n, int rowBytes) {
        byte[] out = new byte[Math.multiplyExact(n, rowBytes)];
        b.get(0, out, 0, out.length);
        return out;
    }

    @Override public int inFeatures() { return k; }

    @Override public int outFeatures() { return n; }

    @Override
    public void forward(float[] x, int rows, float[] out, Parallel parallel) {
        if (rows > GEMV_MAX_ROWS) {
            tiled.forward(x, rows, out, parallel);
            return;
        }
        // One loop method per kind, each JIT-compiled with its own profile. Known, not fixed: on JDK 17 an MXFP4 GEMV
        // that runs after INT4 ones in the same process stays about 5× slower than in a fresh one (4096² layer: 11–13
        // ms vs 2.2–2.6 ms; with one shared loop too), which JDK 25 does not show: profile pollution inside the Vector
        // API's shared templates, out of this class's reach.
        switch (kind) {
            case INT4 -> parallel.forRange(n, 16, (from, to) -> gemvInt4(x, rows, out, from, to));
            case INT8 -> parallel.forRange(n, 16, (from, to) -> gemvInt8(x, rows, out, from, to));
            default -> parallel.forRange(n, 16, (from, to) -> gemvFp4(x, rows, out, from, to));
        }
    }

    /** Output rows [from, to): two weight rows per pass share every activation load and index computation. */
    private void gemvInt4(float[] x, int rows, float[] out, int from, int to) {
        int r = from;
        for (; r + 1 < to; r += 2) for (int m = 0; m < rows; m++) dotInt4Pair(r, x, m * k, out, m * n + r);
        for (; r < to; r++) for (int m = 0; m < rows; m++) out[m * n + r] = dotInt4(r, x, m * k);
    }

    private void gemvInt8(float[] x, int rows, float[] out, int from, int to) {
        int r = from;
        for (; r + 1 < to; r += 2) for (int m = 0; m < rows; m++) dotInt8Pair(r, x, m * k, out, m * n + r);
        for (; r < to; r++) for (int m = 0; m < rows; m++) out[m * n + r] = dotInt8(r, x, m * k);
    }

    private void gemvFp4(float[] x, int rows, float[] out, int from, int to) {
        for (int r = from; r < to; r++) for (int m = 0; m < rows; m++) out[m * n + r] = dotFp4(r, x, m * k);
    }

    @Override
    public float[] denseWeight() {
        return tiled.denseWeight();
    }

    /** Run of L codes starting at byte {@code at}: int lanes, sign-extended bytes. */
    private IntVector load(int at) {
        return (IntVector) ByteVector.fromArray(B, codes, at).convertShape(VectorOperators.B2I, I, 0);
    }

    /** Group of element e within its row (groups are a power of two, or one per row). */
    private int groupOf(int e) {
        return e >>> groupShift;
    }

    /** (q − z)·s, the GENERIC decoder's float operations. */
    private static FloatVector intWeights(IntVector q, float s, float z) {
        return ((FloatVector) q.convertShape(VectorOperators.I2F, F, 0)).sub(z).mul(s);
    }

    /** q·s + offset in one FMA (offset = −z·s): within an ulp of (q − z)·s, for the GEMV that sums in its own order anyway. */
    private static FloatVector fmaWeights(IntVector q, float s, float offset) {
        return ((FloatVector) q.convertShape(VectorOperators.I2F, F, 0)).fma(s, offset);
    }

    /**
     * E2M1 codes (0..15) to value·s with lane arithmetic only (no compare/blend masks). Doubled magnitude m (e = 0)
     * or (2|m)·2^(e−1): the shift form ((2|m) << e) >> 1 gives 1 at e = 0, so subtract (e = 0) & ¬m, where
     * (e − 1) >>> 31 is 1 exactly at e = 0; halved (exact), sign bit set by XOR on the float bits (code 8 gives −0,
     * as negation does), scaled: the same values, bit for bit, as the GENERIC decoder.
     */
    private static FloatVector fp4Weights(IntVector q, float s) {
        IntVector m = q.and(1), ex = q.lanewise(VectorOperators.LSHR, 1).and(3);
        IntVector atZero = ex.sub(1).lanewise(VectorOperators.LSHR, 31);
        IntVector mag = m.or(2).lanewise(VectorOperators.LSHL, ex).lanewise(VectorOperators.LSHR, 1)
                .sub(atZero.and(m.lanewise(VectorOperators.XOR, 1)));
        FloatVector f = ((FloatVector) mag.convertShape(VectorOperators.I2F, F, 0)).mul(0.5f);
        IntVector sign = q.and(8).lanewise(VectorOperators.LSHL, 28);
        return ((FloatVector) f.reinterpretAsInts().lanewise(VectorOperators.XOR, sign).reinterpretAsFloats()).mul(s);
    }

    private void decodeRow(int r, float[] out, int off) {
        switch (kind) {
            case INT4 -> decodeInt4(r, out, off);
            case MXFP4 -> decodeFp4(r, out, off);
            default -> decodeInt8(r, out, off);
        }
    }

    /**
     * One weight, scalar, with the same float operations as the vector paths: the tail of a row past its last whole
     * chunk (or vector) runs here, so the vector loops have no branches.
     */
    private float weight(int r, int e) {
        int g = r * groups + groupOf(e), base = r * rowBytes;
        if (kind == Kind.INT8) {
            int b = codes[base + e];
            return ((float) (signed8 ? b : b & 0xFF) - zeros[g]) * scales[g];
        }
        int w = span, o = e % (2 * w);
        int b = codes[base + e / (2 * w) * w + o % w] & 0xFF;
        int q = o < w ? b & 0xF : b >>> 4;
        if (kind == Kind.INT4) return ((float) q - zeros[g]) * scales[g];
        int m = q & 1, ex = (q >>> 1) & 3, mag = ex == 0 ? m : (2 | m) << (ex - 1);
        float f = mag * 0.5f;
        return ((q & 8) != 0 ? -f : f) * scales[g];
    }

    /** One INT4 row (the odd one left over by {@link #dotInt4Pair}). */
    private float dotInt4(int r, float[] x, int xo) {
        int base = r * rowBytes, gBase = r * groups, w = span, full = k / (2 * w) * (2 * w);
        FloatVector acc = FloatVector.zero(F), acc2 = acc; // low and high halves: two independent FMA chains
        // one flat loop over the row's bytes (a nested loop with a variable trip count defeats C2's vector boxing
        // elimination): byte b of chunk b / W holds elements 2W·(b / W) + b % W (low nibble) and that + W (high)
        int ws = spanShift, gs = groupShift;
        float[] sc = scales, zp = zeros;
        for (int b = 0, bytes = full / 2; b < bytes; b += L) {
            int el = ((b >>> ws) << (ws + 1)) + (b & (w - 1));
            IntVector q = load(base + b);
            int gl = gBase + (el >>> gs), gh = gBase + ((el + w) >>> gs);
            FloatVector wl = intWeights(q.and(0x0F), sc[gl], zp[gl]);
            FloatVector wh = intWeights(q.lanewise(VectorOperators.ASHR, 4).and(0x0F), sc[gh], zp[gh]);
            acc = wl.fma(FloatVector.fromArray(F, x, xo + el), acc);
            acc2 = wh.fma(FloatVector.fromArray(F, x, xo + el + w), acc2);
        }
        float s = VectorMath.sum(acc.add(acc2)); // fixed lane order: deterministic
        for (int e = full; e < k; e++) s = Math.fma(weight(r, e), x[xo + e], s);
        return s;
    }

    /**
     * Rows r and r+1 at once: out[o] and out[o+1] = Σ_k x[xo + k]·W[r or r+1][k], four FMA chains (two rows × low and
     * high nibbles) fed by one activation load per vector.
     */
    private void dotInt4Pair(int r, float[] x, int xo, float[] out, int o) {
        int base = r * rowBytes, base2 = base + rowBytes, gBase = r * groups, w = span, full = k / (2 * w) * (2 * w);
        FloatVector acc = FloatVector.zero(F), acc2 = acc, acc3 = acc, acc4 = acc;
        int ws = spanShift, gs = groupShift, gr = groups;
        float[] sc = scales, zp = offsets;
        for (int b = 0, bytes = full / 2; b < bytes; b += L) {
            int el = ((b >>> ws) << (ws + 1)) + (b & (w - 1));
            FloatVector xl = FloatVector.fromArray(F, x, xo + el), xh = FloatVector.fromArray(F, x, xo + el + w);
            IntVector q = load(base + b), q2 = load(base2 + b);
            int gl = gBase + (el >>> gs), gh = gBase + ((el + w) >>> gs);
            acc = fmaWeights(q.and(0x0F), sc[gl], zp[gl]).fma(xl, acc);
            acc2 = fmaWeights(q.lanewise(VectorOperators.ASHR, 4).and(0x0F), sc[gh], zp[gh]).fma(xh, acc2);
            acc3 = fmaWeights(q2.and(0x0F), sc[gl + gr], zp[gl + gr]).fma(xl, acc3);
            acc4 = fmaWeights(q2.lanewise(VectorOperators.ASHR, 4).and(0x0F), sc[gh + gr], zp[gh + gr]).fma(xh, acc4);
        }
        float s = VectorMath.sum(acc.add(acc2)), s2 = VectorMath.sum(acc3.add(acc4));
        for (int e = full; e < k; e++) {
            s = Math.fma(weight(r, e), x[xo + e], s);
            s2 = Math.fma(weight(r + 1, e), x[xo + e], s2);
        }
        out[o] = s;
        out[o + 1] = s2;
    }

    private float dotFp4(int r, float[] x, int xo) {
        int base = r * rowBytes, gBase = r * groups, w = span, full = k / (2 * w) * (2 * w);
        // two independent FMA chains (low and high nibbles) in one flat loop over the row's bytes, as dotInt4: byte b
        // of chunk b / W holds elements 2W·(b / W) + b % W (low nibble) and that + W (high). A four-chain, two-run
        // unrolled body with this decode ran a 4096² GEMV in 15 ms against 2.6 ms, each in a fresh JVM: most likely
        // past C2's inlining limits with the decode inlined four times, leaving the vectors boxed
        FloatVector acc = FloatVector.zero(F), acc2 = acc;
        int ws = spanShift, gs = groupShift;
        float[] sc = scales;
        for (int b = 0, bytes = full / 2; b < bytes; b += L) {
            int el = ((b >>> ws) << (ws + 1)) + (b & (w - 1));
            IntVector q = load(base + b);
            int gl = gBase + (el >>> gs), gh = gBase + ((el + w) >>> gs);
            acc = fp4Weights(q.and(0x0F), sc[gl]).fma(FloatVector.fromArray(F, x, xo + el), acc);
            acc2 = fp4Weights(q.lanewise(VectorOperators.ASHR, 4).and(0x0F), sc[gh]).fma(FloatVector.fromArray(F, x, xo + el + w), acc2);
        }
        float s = VectorMath.sum(acc.add(acc2)); // fixed lane order: deterministic
        for (int e = full; e < k; e++) s = Math.fma(weight(r, e), x[xo + e], s);
        return s;
    }

    private float dotInt8(int r, float[] x, int xo) {
        int base = r * rowBytes, gBase = r * groups, full = k / L * L;
        FloatVector acc = FloatVector.zero(F), acc2 = acc; // two independent FMA chains (even and odd runs)
        int gs = groupShift, e = 0;
        float[] sc = scales, zp = offsets;
        for (; e + 2 * L <= full; e += 2 * L) {
            int g = gBase + (e >>> gs), g2 = gBase + ((e + L) >>> gs);
            acc = fmaWeights(int8Codes(base + e), sc[g], zp[g]).fma(FloatVector.fromArray(F, x, xo + e), acc);
            acc2 = fmaWeights(int8Codes(base + e + L), sc[g2], zp[g2]).fma(FloatVector.fromArray(F, x, xo + e + L), acc2);
        }
        for (; e < full; e += L) {
            int g = gBase + (e >>> gs);
            acc = fmaWeights(int8Codes(base + e), sc[g], zp[g]).fma(FloatVector.fromArray(F, x, xo + e), acc);
        }
        float s = VectorMath.sum(acc.add(acc2));
        for (; e < k; e++) s = Math.fma(weight(r, e), x[xo + e], s);
        return s;
    }

    /**
     * Rows r and r+1 at once (as {@link #dotInt4Pair}): four FMA chains, two rows × even and odd runs of L codes, fed
     * by one activation load per run. A single chain was bound by the FMA latency, not by the weight stream.
     */
    private void dotInt8Pair(int r, float[] x, int xo, float[] out, int o) {
        int base = r * rowBytes, base2 = base + rowBytes, gBase = r * groups, gr = groups, full = k / L * L;
        FloatVector acc = FloatVector.zero(F), acc2 = acc, acc3 = acc, acc4 = acc;
        int gs = groupShift, e = 0;
        float[] sc = scales, zp = offsets;
        for (; e + 2 * L <= full; e += 2 * L) {
            int g = gBase + (e >>> gs), g2 = gBase + ((e + L) >>> gs);
            FloatVector x1 = FloatVector.fromArray(F, x, xo + e), x2 = FloatVector.fromArray(F, x, xo + e + L);
            acc = fmaWeights(int8Codes(base + e), sc[g], zp[g]).fma(x1, acc);
            acc2 = fmaWeights(int8Codes(base + e + L), sc[g2], zp[g2]).fma(x2, acc2);
            acc3 = fmaWeights(int8Codes(base2 + e), sc[g + gr], zp[g + gr]).fma(x1, acc3);
            acc4 = fmaWeights(int8Codes(base2 + e + L), sc[g2 + gr], zp[g2 + gr]).fma(x2, acc4);
        }
        for (; e < full; e += L) {
            int g = gBase + (e >>> gs);
            FloatVector x1 = FloatVector.fromArray(F, x, xo + e);
            acc = fmaWeights(int8Codes(base + e), sc[g], zp[g]).fma(x1, acc);
            acc3 = fmaWeights(int8Codes(base2 + e), sc[g + gr], zp[g + gr]).fma(x1, acc3);
        }
        float s = VectorMath.sum(acc.add(acc2)), s2 = VectorMath.sum(acc3.add(acc4));
        for (; e < k; e++) {
            s = Math.fma(weight(r, e), x[xo + e], s);
            s2 = Math.fma(weight(r + 1, e), x[xo + e], s2);
        }
        out[o] = s;
        out[o + 1] = s2;
    }

    /** L INT8 codes from byte {@code at} as int lanes: sign-extended (symmetric) or unsigned (with zero points). */
    private IntVector int8Codes(int at) {
        IntVector q = load(at);
        return signed8 ? q : q.and(0xFF);
    }

    private void decodeInt4(int r, float[] out, int off) {
        int base = r * rowBytes, gBase = r * groups, w = span, full = k / (2 * w) * (2 * w);
        // one flat loop over the row's bytes (a nested loop with a variable trip count defeats C2's vector boxing
        // elimination): byte b of chunk b / W holds elements 2W·(b / W) + b % W (low nibble) and that + W (high)
        int ws = spanShift, gs = groupShift;
        float[] sc = scales, zp = zeros;
        for (int b = 0, bytes = full / 2; b < bytes; b += L) {
            int el = ((b >>> ws) << (ws + 1)) + (b & (w - 1));
            IntVector q = load(base + b);
            int gl = gBase + (el >>> gs), gh = gBase + ((el + w) >>> gs);
            FloatVector wl = intWeights(q.and(0x0F), sc[gl], zp[gl]);
            FloatVector wh = intWeights(q.lanewise(VectorOperators.ASHR, 4).and(0x0F), sc[gh], zp[gh]);
            wl.intoArray(out, off + el);
            wh.intoArray(out, off + el + w);
        }
        for (int e = full; e < k; e++) out[off + e] = weight(r, e);
    }

    private void decodeFp4(int r, float[] out, int off) {
        int base = r * rowBytes, gBase = r * groups, w = span, full = k / (2 * w) * (2 * w);
        // one flat loop over the row's bytes (a nested loop with a variable trip count defeats C2's vector boxing
        // elimination): byte b of chunk b / W holds elements 2W·(b / W) + b % W (low nibble) and that + W (high)
        int ws = spanShift, gs = groupShift;
        float[] sc = scales, zp = zeros;
        for (int b = 0, bytes = full / 2; b < bytes; b += L) {
            int el = ((b >>> ws) << (ws + 1)) + (b & (w - 1));
            IntVector q = load(base + b);
            int gl = gBase + (el >>> gs), gh = gBase + ((el + w) >>> gs);
            FloatVector wl = fp4Weights(q.and(0x0F), sc[gl]);
            FloatVector wh = fp4Weights(q.lanewise(VectorOperators.ASHR, 4).and(0x0F), sc[gh]);
            wl.intoArray(out, off + el);
            wh.intoArray(out, off + el + w);
        }
        for (int e = full; e < k; e++) out[off + e] = weight(r, e);
    }

    private void decodeInt8(int r, float[] out, int off) {
        int base = r * rowBytes, gBase = r * groups, full = k / L * L;
        int gs = groupShift;
        float[] sc = scales, zp = zeros;
        for (int e = 0; e < full; e += L) {
            IntVector q = load(base + e);
            int g = gBase + (e >>> gs);
            FloatVector wv = intWeights(signed8 ? q : q.and(0xFF), sc[g], zp[g]);
            wv.intoArray(out, off + e);
        }
        for (int e = full; e < k; e++) out[off + e] = weight(r, e);
    }
}
