package dev.tamp.formats.codec;

import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.encoding.IntGroupedWeight;
import dev.tamp.core.encoding.Layout;
import dev.tamp.core.encoding.MxWeight;
import dev.tamp.core.encoding.Sparse24Weight;
import dev.tamp.core.error.BadInputException;
import dev.tamp.core.tensor.Tensor;
import java.nio.ByteBuffer;

/**
 * The canonical CPU form of a 2:4-sparse weight (formats.md §5.2), over the [N][K] row view of a weight:
 * <ul>
 *   <li>values: [N][K/2] floats, the two kept elements of every group of 4 consecutive K columns in increasing
 *       column order (stored as F32 {@link DenseWeight} here; a caller may re-encode them, e.g. as int groups);</li>
 *   <li>indices: ceil(K/8) bytes per row, one nibble per group of 4 in PTX metadata encoding (first kept position in
 *       the low 2 bits, second in the high 2 bits, first &lt; second), low nibble = even group; a row with an odd
 *       number of groups leaves its last high nibble 0.</li>
 * </ul>
 * A group with fewer than two non-zeros still names two positions (the extra ones hold 0). K must be a multiple of
 * 4: any other K is refused with a {@link BadInputException} (pruners leave such layers dense, algorithms.md §4.6).
 */
public final class Sparse24Codec {
    /** Nibble of the pair (i, j), i &lt; j: i | j &lt;&lt; 2. */
    private static final int[] LEGAL = {0x4, 0x8, 0xC, 0x9, 0xD, 0xE};

    private Sparse24Codec() {}

    /** Index bytes per row for K columns. */
    public static int indexRowBytes(int k) {
        return (k / 4 + 1) / 2;
    }

    /** The PTX nibble naming positions first &lt; second of a group. */
    public static int nibble(int first, int second) {
        if (first < 0 || second > 3 || first >= second) throw new IllegalArgumentException("positions " + first + ", " + second + " are not a 2:4 pair");
        return first | second << 2;
    }

    /** Whether a nibble names a legal pair. */
    public static boolean legal(int nibble) {
        for (int l : LEGAL) if (l == nibble) return true;
        return false;
    }

    /**
     * Encodes [n][k] rows keeping the positions where {@code keep} is true. A group with fewer than two kept positions
     * names the lowest unkept ones as well (their values are stored as 0).
     *
     * @param shape the graph value's shape; kAxis which of its axes is K
     * @throws BadInputException when K is not a multiple of 4 or a group keeps more than 2 positions
     */
    public static Sparse24Weight encode(float[] rows, boolean[] keep, int n, int k, long[] shape, int kAxis) {
        if (k % 4 != 0) throw new BadInputException("K = " + k + " is not a multiple of 4; 2:4 sparsity needs whole groups of 4 along K");
        if (rows.length != (long) n * k || keep.length != rows.length) throw new IllegalArgumentException("rows/mask are not " + n + "x" + k);
        if (EncodedTensor.rows(shape, kAxis) != n || EncodedTensor.cols(shape, kAxis) != k) {
            throw new IllegalArgumentException("shape does not match " + n + "x" + k + " with kAxis " + kAxis);
        }
        int half = k / 2, rowBytes = indexRowBytes(k);
        float[] values = new float[n * half];
        byte[] idx = new byte[n * rowBytes];
        int[] pos = new int[2];
        for (int r = 0; r < n; r++) {
            for (int g = 0; g < k / 4; g++) {
                int base = r * k + 4 * g, count = 0;
                for (int i = 0; i < 4; i++) {
                    if (!keep[base + i]) continue;
                    if (count == 2) throw new BadInputException("row " + r + ", group " + g + " keeps more than 2 of 4 positions");
                    pos[count++] = i;
                }
                for (int i = 0; i < 4 && count < 2; i++) {
                    if (!keep[base + i]) pos[count++] = i; // unkept positions fill an under-full group
                }
                if (pos[0] > pos[1]) {
                    int t = pos[0];
                    pos[0] = pos[1];
                    pos[1] = t;
                }
                values[r * half + 2 * g] = keep[base + pos[0]] ? rows[base + pos[0]] : 0f;
                values[r * half + 2 * g + 1] = keep[base + pos[1]] ? rows[base + pos[1]] : 0f;
                int nib = nibble(pos[0], pos[1]);
                idx[r * rowBytes + g / 2] |= (byte) ((g & 1) == 0 ? nib : nib << 4);
            }
        }
        return new Sparse24Weight(shape.clone(), kAxis, new DenseWeight(Tensor.ofFloats(values, n, half)), ByteBuffer.wrap(idx), Layout.GENERIC);
    }

    /**
     * Encodes [n][k] rows that are already 2:4 sparse (at most two non-zeros in every group of 4).
     *
     * @throws BadInputException naming the first group with more than two non-zeros
     */
    public static Sparse24Weight fromDense(float[] rows, int n, int k, long[] shape, int kAxis) {
        boolean[] keep = new boolean[rows.length];
        for (int i = 0; i < rows.length; i++) keep[i] = rows[i] != 0f;
        return encode(rows, keep, n, k, shape, kAxis);
    }

    /** The same weight with its kept values in another encoding (an [N][K/2] matrix, e.g. quantized). */
    public static Sparse24Weight withValues(Sparse24Weight w, EncodedTensor values) {
        long n = w.rows(), half = w.cols() / 2;
        if (values.shape().length != 2 || values.numel() != n * half) {
            throw new IllegalArgumentException("values of shape " + java.util.Arrays.toString(values.shape()) + " are not " + n + "x" + half);
        }
        return new Sparse24Weight(w.shape(), w.kAxis(), values, w.indices(), w.layout());
    }

    /**
     * Scatters kept values [n][k/2] into dense [n][k] rows by the index plane.
     *
     * @throws BadInputException when the index plane has the wrong size or names an illegal pair
     */
    public static float[] scatter(float[] kept, ByteBuffer indices, int n, int k) {
        validate(indices, n, k);
        if (kept.length != (long) n * (k / 2)) throw new BadInputException("2:4 values hold " + kept.length + " floats, not " + n + "x" + k / 2);
        float[] out = new float[n * k];
        for (int r = 0; r < n; r++) scatterRow(kept, r * (k / 2), indices, r, k, out, r * k);
        return out;
    }

    /** Dense row r into out[off .. off+k) from that row's kept values at kept[from ..]. */
    public static void scatterRow(float[] kept, int from, ByteBuffer indices, int r, int k, float[] out, int off) {
        int rowBytes = indexRowBytes(k);
        java.util.Arrays.fill(out, off, off + k, 0f);
        for (int g = 0; g < k / 4; g++) {
            int b = indices.get(r * rowBytes + g / 2) & 0xFF;
            int nib = (g & 1) == 0 ? b & 0xF : b >>> 4;
            out[off + 4 * g + (nib & 3)] = kept[from + 2 * g];
            out[off + 4 * g + (nib >>> 2)] = kept[from + 2 * g + 1];
        }
    }

    /**
     * Absolute column of every kept value, [n][k/2] row-major (kernels gather activations by it).
     *
     * @throws BadInputException as {@link #scatter}
     */
    public static int[] columns(ByteBuffer indices, int n, int k) {
        validate(indices, n, k);
        int half = k / 2, rowBytes = indexRowBytes(k);
        int[] cols = new int[n * half];
        for (int r = 0; r < n; r++) {
            for (int g = 0; g < k / 4; g++) {
                int b = indices.get(r * rowBytes + g / 2) & 0xFF;
                int nib = (g & 1) == 0 ? b & 0xF : b >>> 4;
                cols[r * half + 2 * g] = 4 * g + (nib & 3);
                cols[r * half + 2 * g + 1] = 4 * g + (nib >>> 2);
            }
        }
        return cols;
    }

    /**
     * Dense [N][K] of a 2:4 weight whose values are dense floats, int groups or MX blocks.
     *
     * @throws BadInputException on an inconsistent weight
     */
    public static float[] decode(Sparse24Weight w) {
        if (w.layout() != Layout.GENERIC) w = (Sparse24Weight) PackLayouts.toGeneric(w);
        int n = Math.toIntExact(w.rows()), k = Math.toIntExact(w.cols());
        EncodedTensor v = w.values();
        float[] kept;
        if (v instanceof DenseWeight d) kept = d.tensor().toFloatArray();
        else if (v instanceof IntGroupedWeight g) kept = IntGroupCodec.dequantize(g);
        else if (v instanceof MxWeight m) kept = MxMatrix.dequantize(m);
        else throw new BadInputException("2:4 values encoded as " + v.describe() + " cannot be decoded here");
        return scatter(kept, w.indices(), n, k);
    }

    private static void validate(ByteBuffer indices, int n, int k) {
        if (k % 4 != 0) throw new BadInputException("2:4 weight has K = " + k + ", not a multiple of 4");
        int rowBytes = indexRowBytes(k);
        if (indices.capacity() != (long) n * rowBytes) {
            throw new BadInputException("2:4 index plane has " + indices.capacity() + " bytes, expected " + (long) n * rowBytes + " for " + n + "x" + k);
        }
        for (int r = 0; r < n; r++) {
            for (int g = 0; g < k / 4; g++) {
                int b = indices.get(r * rowBytes + g / 2) & 0xFF;
                int nib = (g & 1) == 0 ? b & 0xF : b >>> 4;
                if (!legal(nib)) throw new BadInputException("2:4 index plane: row " + r + ", group " + g + " has illegal nibble 0x" + Integer.toHexString(nib));
            }
        }
    }
}
