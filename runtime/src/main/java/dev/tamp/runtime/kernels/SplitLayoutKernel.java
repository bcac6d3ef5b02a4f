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
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The fast kernel for weights packed for this host's vector width (formats.md §3.7): INT4 and MXFP4 codes in the
 * nibble-split layout whose span W equals the preferred vector size, and INT8 codes in W-aligned rows. A run of L
 * codes (L float lanes) is one L-byte load widened to int lanes; AND 0x0F gives the low-nibble codes of elements
 * j.., SHR 4 the high-nibble codes of elements j+W.., both already in activation order; the codes become weights
 * with the same float operations as the GENERIC decoder ((q − zero)·scale; E2M1 value·2^(e−127)), so decoded
 * weights are bit-identical to it.
 * <ul>
 *   <li>Few activation rows (GEMV): per output row one fused multiply-add chain over K straight from the codes,
 *       never materialising a weight row.</li>
 *   <li>More rows: {@link TiledDecodeKernel} with this vector row decoder, the same tiles and GEMM as the GENERIC
 *       path, hence bit-identical outputs.</li>
 * </ul>
 */
final class SplitLayoutKernel implements LinearKernel {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Byte> B = L * 8 >= 64 ? VectorSpecies.of(byte.class, VectorShape.forBitSize(L * 8)) : null;
    /** Activation rows up to which the GEMV path runs. */
    static final int GEMV_MAX_ROWS = 4;

    private enum Kind { INT4, INT8, MXFP4 }

    private final Kind kind;
    private final byte[] codes;
    private final int rowBytes;
    private final float[] scales;  // [n][groups]
    private final float[] zeros;   // [n][groups] zero point as float (INT), null for MX
    private final int group;
    private final int groups;
    private final int span;        // W: bytes per chunk (4-bit), 0 for 8-bit rows
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
        this.group = group;
        this.groups = (k + group - 1) / group;
        this.span = span;
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
        return group % L == 0 || group >= k;
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
        parallel.forRange(n, 16, (from, to) -> {
            float[] tail = new float[2 * L];
            for (int r = from; r < to; r++) for (int m = 0; m < rows; m++) out[m * n + r] = dot(r, x, m * k, tail);
        });
    }

    @Override
    public float[] denseWeight() {
        return tiled.denseWeight();
    }

    /** Run of L codes starting at byte {@code at}: int lanes, sign-extended bytes. */
    private IntVector load(int at) {
        return (IntVector) ByteVector.fromArray(B, codes, at).convertShape(VectorOperators.B2I, I, 0);
    }

    /** The weights of elements e .. e+L of row r whose codes are the int lanes q (already unpacked). */
    private FloatVector weights(IntVector q, int r, int e) {
        int gi = r * groups + e / group;
        return weights(q, scales[gi], zeros == null ? 0f : zeros[gi]);
    }

    /** The weights of codes q with one group's scale s and zero point z. */
    private FloatVector weights(IntVector q, float s, float z) {
        if (kind == Kind.MXFP4) {
            IntVector m = q.and(1), ex = q.lanewise(VectorOperators.LSHR, 1).and(3);
            IntVector mag = m.or(2).lanewise(VectorOperators.LSHL, ex).lanewise(VectorOperators.LSHR, 1);
            mag = mag.blend(m, ex.compare(VectorOperators.EQ, 0));
            FloatVector f = ((FloatVector) mag.convertShape(VectorOperators.I2F, F, 0)).mul(0.5f);
            VectorMask<Float> neg = q.and(8).compare(VectorOperators.NE, 0).cast(F);
            return f.blend(f.neg(), neg).mul(s);
        }
        FloatVector qf = (FloatVector) q.convertShape(VectorOperators.I2F, F, 0);
        return qf.sub(z).mul(s);
    }

    private void decodeRow(int r, float[] out, int off) {
        float[] tail = new float[L];
        int base = r * rowBytes;
        if (kind == Kind.INT8) {
            for (int e = 0; e < k; e += L) {
                IntVector q = load(base + e);
                store(weights(signed8 ? q : q.and(0xFF), r, e), out, off, e, tail);
            }
            return;
        }
        int w = span;
        for (int c = 0, e0 = 0; e0 < k; c++, e0 += 2 * w) {
            for (int j = 0; j < w && e0 + j < k; j += L) {
                IntVector q = load(base + c * w + j);
                store(weights(q.and(0x0F), r, e0 + j), out, off, e0 + j, tail);
                if (e0 + w + j < k) store(weights(q.lanewise(VectorOperators.ASHR, 4).and(0x0F), r, e0 + w + j), out, off, e0 + w + j, tail);
            }
        }
    }

    private void store(FloatVector wv, float[] out, int off, int e, float[] tail) {
        if (e + L <= k) {
            wv.intoArray(out, off + e);
        } else {
            wv.intoArray(tail, 0);
            System.arraycopy(tail, 0, out, off + e, k - e);
        }
    }

    /** Σ_k x[xo + k]·W[r][k], one fused multiply-add chain per lane. */
    private float dot(int r, float[] x, int xo, float[] tail) {
        int base = r * rowBytes;
        FloatVector acc = FloatVector.zero(F);
        float rest = 0;
        if (kind == Kind.INT8) {
            for (int e = 0; e < k; e += L) {
                IntVector q = load(base + e);
                FloatVector wv = weights(signed8 ? q : q.and(0xFF), r, e);
                if (e + L <= k) acc = wv.fma(FloatVector.fromArray(F, x, xo + e), acc);
                else rest += tailDot(wv, x, xo, e, tail);
            }
            return acc.reduceLanes(VectorOperators.ADD) + rest;
        }
        int w = span;
        FloatVector acc2 = FloatVector.zero(F); // low and high halves accumulate apart: two independent FMA chains
        for (int c = 0, e0 = 0; e0 < k; c++, e0 += 2 * w) {
            if (e0 + 2 * w <= k && group % w == 0) { // each half of the chunk lies in one group: its scale is read once
                int gl = r * groups + e0 / group, gh = r * groups + (e0 + w) / group;
                float sl = scales[gl], sh = scales[gh], zl = zeros == null ? 0f : zeros[gl], zh = zeros == null ? 0f : zeros[gh];
                for (int j = 0; j < w; j += L) {
                    IntVector q = load(base + c * w + j);
                    acc = weights(q.and(0x0F), sl, zl).fma(FloatVector.fromArray(F, x, xo + e0 + j), acc);
                    acc2 = weights(q.lanewise(VectorOperators.ASHR, 4).and(0x0F), sh, zh).fma(FloatVector.fromArray(F, x, xo + e0 + w + j), acc2);
                }
                continue;
            }
            if (e0 + 2 * w <= k) {
                for (int j = 0; j < w; j += L) {
                    IntVector q = load(base + c * w + j);
                    acc = weights(q.and(0x0F), r, e0 + j).fma(FloatVector.fromArray(F, x, xo + e0 + j), acc);
                    acc2 = weights(q.lanewise(VectorOperators.ASHR, 4).and(0x0F), r, e0 + w + j)
                            .fma(FloatVector.fromArray(F, x, xo + e0 + w + j), acc2);
                }
                continue;
            }
            for (int j = 0; j < w && e0 + j < k; j += L) { // last, K-padded chunk
                IntVector q = load(base + c * w + j);
                for (int half = 0; half < 2; half++) {
                    int e = e0 + half * w + j;
                    if (e >= k) continue;
                    FloatVector wv = weights(half == 0 ? q.and(0x0F) : q.lanewise(VectorOperators.ASHR, 4).and(0x0F), r, e);
                    if (e + L <= k) acc = wv.fma(FloatVector.fromArray(F, x, xo + e), acc);
                    else rest += tailDot(wv, x, xo, e, tail);
                }
            }
        }
        return acc.add(acc2).reduceLanes(VectorOperators.ADD) + rest;
    }

    private float tailDot(FloatVector wv, float[] x, int xo, int e, float[] tail) {
        wv.intoArray(tail, 0);
        float s = 0;
        for (int i = 0; i < k - e; i++) s = Math.fma(tail[i], x[xo + e + i], s);
        return s;
    }
}
