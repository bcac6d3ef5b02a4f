package dev.tamp.quantizers;

import dev.tamp.core.encoding.IntGroupedWeight;
import dev.tamp.core.error.BadInputException;
import dev.tamp.core.tensor.Tensor;
import dev.tamp.formats.codec.IntGrid;
import dev.tamp.formats.codec.IntGroupCodec;
import dev.tamp.runtime.kernels.Parallel;

/**
 * Quantize-then-decode of [n][k] weight rows with the codec the model will ship: the exact same arithmetic (the
 * codec's {@link IntGrid} steps, group by group), without packing codes that would only be unpacked again — a
 * search calls this for every candidate.
 */
public final class FakeQuant {
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
        for (int from = 0; from < k; from += g) {
            int to = Math.min(k, from + g);
            float lo = Float.POSITIVE_INFINITY, hi = Float.NEGATIVE_INFINITY;
            for (int i = from; i < to; i++) {
                float v = src[off + i];
                if (!Float.isFinite(v)) throw new BadInputException("non-finite value " + v + " at index " + i);
                lo = Math.min(lo, v);
                hi = Math.max(hi, v);
            }
            float scale = grid.scale(lo, hi);
            int zero = grid.zero(lo, scale);
            for (int i = from; i < to; i++) dst[dstOff + i] = IntGrid.decode(grid.code(src[off + i], scale, zero), scale, zero);
        }
    }
}
