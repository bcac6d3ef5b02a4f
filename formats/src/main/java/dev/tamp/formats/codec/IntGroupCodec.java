package dev.tamp.formats.codec;

import dev.tamp.core.encoding.IntGroupedWeight;
import dev.tamp.core.encoding.Layout;
import dev.tamp.core.tensor.DType;
import dev.tamp.core.tensor.Tensor;
import dev.tamp.core.error.BadInputException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.stream.IntStream;

/**
 * Round-to-nearest integer quantization in groups along K (algorithms.md §0.2), stored as
 * {@link IntGroupedWeight}:
 * <ul>
 *   <li>symmetric (SmoothQuant fake_quant): Δ = max(max|v|, 1e−5) / (2^(b−1)−1), q = RNE(v/Δ), which lies in
 *       ±(2^(b−1)−1) by construction;</li>
 *   <li>asymmetric (AWQ): Δ = max(max−min, 1e−5) / (2^b−1), zero = clamp(−RNE(min/Δ), 0, 2^b−1),
 *       q = clamp(RNE(v/Δ) + zero, 0, 2^b−1), v̂ = (q − zero)·Δ, where [min, max] is widened to include 0
 *       [OURS]: with the raw range of a one-signed group (all weights in [0.5, 0.75], say) the zero point clamps
 *       and the group decodes far off; widening changes nothing for groups holding both signs, i.e. virtually
 *       every weight group, and keeps the elementwise error ≤ Δ/2 for all.</li>
 * </ul>
 * RNE is {@link Math#rint} on v/Δ computed in double. A group size that does not divide K leaves a shorter last
 * group; group size 0 or ≥ K is per output channel. Codes per {@link IntGroupedWeight}: 8-bit as int8
 * (symmetric) or uint8 (asymmetric); 4-bit as unsigned nibbles, low nibble first (byte i = e[2i] | e[2i+1] << 4),
 * symmetric codes offset by 8. Scales are the float Δ actually used for decoding.
 */
public final class IntGroupCodec {
    private IntGroupCodec() {}

    /**
     * @throws BadInputException "row R: non-finite value V at index I" (the caller adds the tensor name)
     */
    public static IntGroupedWeight quantize(Tensor t, int kAxis, int bits, boolean symmetric, int groupSize) {
        if (bits != 4 && bits != 8) throw new IllegalArgumentException("only 4- and 8-bit groups are supported, not " + bits);
        FloatRows rows = new FloatRows(t, kAxis);
        int n = rows.rows(), k = rows.cols();
        int g = groupSize <= 0 || groupSize > k ? k : groupSize;
        int groups = (k + g - 1) / g;
        int rowBytes = (k * bits + 7) / 8;
        byte[] codes = new byte[Math.multiplyExact(n, rowBytes)];
        float[] scales = new float[n * groups];
        byte[] zeros = symmetric ? null : new byte[n * groups];
        IntGrid grid = new IntGrid(bits, symmetric);
        RowTiles.forEach(rows, (r, x, off) -> {
            for (int gi = 0; gi < groups; gi++) {
                int from = off + gi * g, to = Math.min(off + k, from + g);
                float lo = Float.POSITIVE_INFINITY, hi = Float.NEGATIVE_INFINITY;
                for (int i = from; i < to; i++) {
                    if (!Float.isFinite(x[i])) throw new BadInputException("non-finite value " + x[i] + " at index " + (i - off));
                    lo = Math.min(lo, x[i]);
                    hi = Math.max(hi, x[i]);
                }
                float scale = grid.scale(lo, hi);
                int zero = grid.zero(lo, scale);
                if (!symmetric) zeros[r * groups + gi] = (byte) zero;
                scales[r * groups + gi] = scale;
                for (int i = from; i < to; i++) {
                    int stored = grid.stored(grid.code(x[i], scale, zero));
                    int col = i - off;
                    if (bits == 8) codes[r * rowBytes + col] = (byte) stored;
                    else codes[r * rowBytes + (col >>> 1)] |= (byte) ((col & 1) == 0 ? stored : stored << 4);
                }
            }
        });
        Tensor scaleT = Tensor.ofFloats(scales, n, groups);
        Tensor zeroT = zeros == null ? null : Tensor.ofBytes(DType.U8, zeros, n, groups);
        return new IntGroupedWeight(t.shape(), kAxis, bits, symmetric, g, ByteBuffer.wrap(codes), scaleT, zeroT, null, 0, 0f, Layout.GENERIC);
    }

    /** Decodes row r of a grouped weight into out[off .. off+K). */
    public static void dequantizeRow(IntGroupedWeight w, int r, float[] out, int off) {
        int k = (int) w.cols(), g = w.groupSize(), groups = w.groupsPerRow(), rowBytes = w.rowBytes();
        ByteBuffer codes = w.codes();
        ByteBuffer sc = w.scales().data().order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer zp = w.zeroPoints() == null ? null : w.zeroPoints().data();
        int base = r * rowBytes;
        for (int i = 0; i < k; i++) {
            int gi = i / g;
            float scale = sc.getFloat((r * groups + gi) * 4);
            int q;
            if (w.bits() == 8) {
                int b = codes.get(base + i);
                q = w.symmetric() ? b : b & 0xFF;
            } else {
                int b = codes.get(base + i / 2) & 0xFF;
                int nib = (i & 1) == 0 ? b & 0xF : b >>> 4;
                q = w.symmetric() ? nib - 8 : nib;
            }
            int zero = zp == null ? 0 : zp.get(r * groups + gi) & 0xFF;
            out[off + i] = (q - zero) * scale;
        }
    }

    /** The dense [N][K] floats of a grouped weight in any layout. */
    public static float[] dequantize(IntGroupedWeight w) {
        if (w.layout() != Layout.GENERIC) w = (IntGroupedWeight) PackLayouts.toGeneric(w);
        IntGroupedWeight g = w;
        int n = (int) w.rows(), k = (int) w.cols();
        float[] out = new float[n * k];
        IntStream.range(0, n).parallel().forEach(r -> dequantizeRow(g, r, out, r * k));
        return out;
    }
}
