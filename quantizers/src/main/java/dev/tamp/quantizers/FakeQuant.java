package dev.tamp.quantizers;

import dev.tamp.core.encoding.IntGroupedWeight;
import dev.tamp.core.error.BadInputException;
import dev.tamp.core.tensor.Tensor;
import dev.tamp.formats.codec.IntGrid;
import dev.tamp.formats.codec.IntGroupCodec;
import dev.tamp.runtime.kernels.Parallel;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Quantize-then-decode of [n][k] weight rows with the codec the model will ship: the exact same arithmetic (the
 * codec's {@link IntGrid} steps, group by group, in Vector API lanes), without packing codes that would only be
 * unpacked again — a search calls this for every candidate, and per element it costs what the GEMM that scores
 * the candidate does unless it is vectorised.
 */
public final class FakeQuant {
    /**
     * IntGrid's steps run in float64 (v/Δ, RNE, + zero, clamp), so each float lane is widened to a double lane: as
     * many float lanes as the preferred double vector has.
     */
    private static final VectorSpecies<Double> DS = DoubleVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Float> FS = VectorSpecies.of(float.class, VectorShape.forBitSize(DS.vectorBitSize() / 2));
    /**
     * (x + 1.5·2^52) − 1.5·2^52 is Math.rint(x), ties to even, for |x| < 2^51: the sum's unit in the last place is 1.
     * |v/Δ| stays within a few times the top code, as Δ is the group's range (or absmax) over that code.
     */
    private static final double ROUND = 0x1.8p52;

    private FakeQuant() {}

    public static IntGroupedWeight encode(float[] rows, int n, int k, int bits, boolean symmetric, int group) {
        return IntGroupCodec.quantize(Tensor.ofFloats(rows, n, k), 1, bits, symmetric, group);
    }

    /**
     * The decoded {@link #encode} of the rows, value for value.
     *
     * @throws BadInputException "row R: non-finite value V at index I" for the lowest such row, as the codec says it
     */
    public static float[] apply(float[] rows, int n, int k, int bits, boolean symmetric, int group) {
        IntGrid grid = new IntGrid(bits, symmetric);
        float[] out = new float[rows.length];
        BadInputException[] first = new BadInputException[n];
        Parallel.shared().forRange(n, 16, (from, to) -> {
            for (int r = from; r < to; r++) {
                try {
                    row(rows, r * k, k, grid, group, out, r * k);
                } catch (BadInputException e) {
                    first[r] = new BadInputException("row " + r + ": " + e.getMessage(), e);
                    return;
                }
            }
        });
        for (BadInputException e : first) if (e != null) throw e;
        return out;
    }

    /**
     * One row: src[off .. off+k) quantized in groups of {@code group} along k (0 or ≥ k: the whole row) and decoded
     * into dst[dstOff .. dstOff+k), which may be the same slots.
     *
     * @throws BadInputException "non-finite value V at index I" (no row: the caller knows it)
     */
    public static void row(float[] src, int off, int k, IntGrid grid, int group, float[] dst, int dstOff) {
        int g = group <= 0 || group > k ? k : group;
        int lanes = FS.length();
        for (int from = 0; from < k; from += g) {
            int to = Math.min(k, from + g), whole = from + (to - from) / lanes * lanes;
            FloatVector vlo = FloatVector.broadcast(FS, Float.POSITIVE_INFINITY), vhi = FloatVector.broadcast(FS, Float.NEGATIVE_INFINITY);
            int i = from;
            for (; i < whole; i += lanes) {
                FloatVector v = FloatVector.fromArray(FS, src, off + i);
                vlo = vlo.min(v);
                vhi = vhi.max(v);
            }
            float lo = vlo.reduceLanes(VectorOperators.MIN), hi = vhi.reduceLanes(VectorOperators.MAX);
            for (; i < to; i++) {
                lo = Math.min(lo, src[off + i]);
                hi = Math.max(hi, src[off + i]);
            }
            // min and max carry a NaN through and end at ±∞ for an infinity: finite bounds mean a finite group
            if (!Float.isFinite(lo) || !Float.isFinite(hi)) {
                for (i = from; i < to; i++) {
                    if (!Float.isFinite(src[off + i])) throw new BadInputException("non-finite value " + src[off + i] + " at index " + i);
                }
            }
            float scale = grid.scale(lo, hi);
            int zero = grid.zero(lo, scale);
            DoubleVector step = DoubleVector.broadcast(DS, scale), z = DoubleVector.broadcast(DS, zero);
            DoubleVector least = DoubleVector.broadcast(DS, grid.lowest()), most = DoubleVector.broadcast(DS, grid.highest());
            DoubleVector round = DoubleVector.broadcast(DS, ROUND);
            FloatVector fstep = FloatVector.broadcast(FS, scale);
            for (i = from; i < whole; i += lanes) {
                DoubleVector x = (DoubleVector) FloatVector.fromArray(FS, src, off + i).convertShape(VectorOperators.F2D, DS, 0);
                DoubleVector q = x.div(step).add(round).sub(round).add(z).min(most).max(least).sub(z);
                ((FloatVector) q.convertShape(VectorOperators.D2F, FS, 0)).mul(fstep).intoArray(dst, dstOff + i);
            }
            for (; i < to; i++) dst[dstOff + i] = IntGrid.decode(grid.code(src[off + i], scale, zero), scale, zero);
        }
    }
}
