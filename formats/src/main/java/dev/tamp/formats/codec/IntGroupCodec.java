package dev.tamp.formats.codec;

import dev.tamp.core.encoding.IntGroupedWeight;
import dev.tamp.core.encoding.Layout;
import dev.tamp.core.tensor.DType;
import dev.tamp.core.tensor.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.stream.IntStream;

/**
 * Round-to-nearest integer quantization in groups along K (algorithms.md §0.2), stored as
 * {@link IntGroupedWeight}:
 * <ul>
 *   <li>symmetric: Δ = max|v| / (2^(b−1)−1), q = RNE(v/Δ) in ±(2^(b−1)−1);</li>
 *   <li>asymmetric: Δ = max(max−min, 1e−5) / (2^b−1), zero = clamp(−RNE(min/Δ), 0, 2^b−1),
 *       q = clamp(RNE(v/Δ) + zero, 0, 2^b−1), v̂ = (q − zero)·Δ, where [min, max] is widened to include 0
 *       [OURS]: the AWQ reference uses the raw group range, which sends a constant group (range 0) to ~1e−5;
 *       widening changes nothing for groups holding both signs, i.e. virtually every weight group.</li>
 * </ul>
 * A group size that does not divide K leaves a shorter last group; group size K is per output channel.
 * Codes: 8-bit as int8 (symmetric) or uint8 (asymmetric); 4-bit as unsigned nibbles, low nibble first,
 * symmetric codes offset by 8.
 */
public final class IntGroupCodec {
    private IntGroupCodec() {}

    public static IntGroupedWeight quantize(Tensor t, int kAxis, int bits, boolean symmetric, int groupSize) {
        if (bits != 4 && bits != 8) throw new IllegalArgumentException("only 4- and 8-bit groups are supported, not " + bits);
        long[] s = t.shape();
        int n = (int) s[1 - kAxis], k = (int) s[kAxis];
        int g = groupSize <= 0 || groupSize > k ? k : groupSize;
        int groups = (k + g - 1) / g;
        int rowBytes = (k * bits + 7) / 8;
        byte[] codes = new byte[n * rowBytes];
        float[] scales = new float[n * groups];
        byte[] zeros = symmetric ? null : new byte[n * groups];
        Tensor src = kAxis == 0 ? MxMatrix.transposeToRows(t) : t;
        int qmax = symmetric ? (1 << (bits - 1)) - 1 : (1 << bits) - 1;
        IntStream.range(0, n).parallel().forEach(r -> {
            float[] x = new float[k];
            MxMatrix.row(src, 1, r, x);
            int[] q = new int[k];
            for (int gi = 0; gi < groups; gi++) {
                int from = gi * g, to = Math.min(k, from + g);
                double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY, amax = 0;
                for (int i = from; i < to; i++) {
                    if (!Float.isFinite(x[i])) throw new IllegalArgumentException("row " + r + ": non-finite value " + x[i] + " at index " + i);
                    lo = Math.min(lo, x[i]);
                    hi = Math.max(hi, x[i]);
                    amax = Math.max(amax, Math.abs(x[i]));
                }
                if (symmetric) {
                    float scale = amax == 0 ? 1f : (float) (amax / qmax);
                    scales[r * groups + gi] = scale;
                    for (int i = from; i < to; i++) q[i] = (int) Math.max(-qmax, Math.min(qmax, Math.rint(x[i] / scale)));
                } else {
                    lo = Math.min(lo, 0);
                    hi = Math.max(hi, 0);
                    float scale = (float) (Math.max(hi - lo, 1e-5) / qmax);
                    int zero = (int) Math.max(0, Math.min(qmax, -Math.rint(lo / scale)));
                    scales[r * groups + gi] = scale;
                    zeros[r * groups + gi] = (byte) zero;
                    for (int i = from; i < to; i++) q[i] = (int) Math.max(0, Math.min(qmax, Math.rint(x[i] / scale) + zero));
                }
            }
            int base = r * rowBytes;
            if (bits == 8) {
                for (int i = 0; i < k; i++) codes[base + i] = (byte) q[i];
            } else {
                for (int i = 0; i < k; i += 2) {
                    int lo4 = (symmetric ? q[i] + 8 : q[i]) & 0xF;
                    int hi4 = i + 1 < k ? (symmetric ? q[i + 1] + 8 : q[i + 1]) & 0xF : 0;
                    codes[base + i / 2] = (byte) (lo4 | hi4 << 4);
                }
            }
        });
        Tensor scaleT = Tensor.ofFloats(scales, n, groups);
        Tensor zeroT = zeros == null ? null : Tensor.ofBytes(DType.U8, zeros, n, groups);
        return new IntGroupedWeight(s, kAxis, bits, symmetric, g, ByteBuffer.wrap(codes), scaleT, zeroT, null, 0, 0f, Layout.GENERIC);
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

    public static float[] dequantize(IntGroupedWeight w) {
        int n = (int) w.rows(), k = (int) w.cols();
        float[] out = new float[n * k];
        IntStream.range(0, n).parallel().forEach(r -> dequantizeRow(w, r, out, r * k));
        return out;
    }
}
