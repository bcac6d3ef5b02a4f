package dev.tamp.quantizers.gptq;

import dev.tamp.core.encoding.IntGroupedWeight;
import dev.tamp.core.encoding.Layout;
import dev.tamp.core.error.BadInputException;
import dev.tamp.core.tensor.DType;
import dev.tamp.core.tensor.Tensor;
import dev.tamp.formats.codec.IntGrid;
import dev.tamp.formats.codec.IntGroupCodec;
import dev.tamp.runtime.linalg.HessianInverse;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;

/**
 * GPTQ weight quantization of one linear layer (Frantar, Ashkboos, Hoefler, Alistarh; ICLR 2023), in float64.
 * Rounding a weight to its grid moves the layer's output; GPTQ quantizes the input columns one after another and,
 * after each, spreads that column's rounding error over the columns not yet quantized so that the calibration
 * output X·Wᵀ moves as little as possible (the OBS update, as in SparseGPT with "prune" replaced by "round"):
 * <ol>
 *   <li>H = XᵀX; dead inputs, damping and U = the upper Cholesky factor of H⁻¹ come from {@link HessianInverse}
 *       (dead inputs' weight columns are zeroed);</li>
 *   <li>columns in blocks of B with lazy batch updates: column c is coded on its group's grid, the error
 *       (w − q)/U_cc is spread over the block's remaining columns through row c of U, and after the block over all
 *       later columns at once;</li>
 *   <li>the grid (scale, zero point) of each group of {@code groupSize} columns is {@link IntGroupCodec}'s, computed
 *       from the current, already updated weights when the sweep reaches the group's first column (the reference's
 *       default, non-static groups). A block never straddles a group start, so those weights have received every
 *       update so far; with groups that are multiples of B (g128, B 128, or per channel) the blocks are the
 *       reference's. (IST-DASLab's gptq.py reads a group that starts inside a block before that block's own
 *       updates have reached it, so for g &lt; B its grids differ slightly from these.)</li>
 * </ol>
 * <b>Act-order</b> sweeps the columns by descending diag(H), so the inputs that matter most are quantized while
 * many columns are still free to absorb their error. The stored format keeps each group's columns contiguous, so
 * with act-order every group's grid is computed up front from the original weights ("static" groups: the
 * reference's {@code --static-groups}, llm-compressor's {@code actorder="weight"}), and the sweep then codes each
 * column on its original group's grid in permuted order; groups are never formed from permuted columns (the
 * reference's default act-order, which needs a g_idx the format does not have).
 *
 * <p><b>Failure.</b> If the inverse Hessian cannot be factored, λ is raised tenfold up to {@link #MAX_DAMPENING}
 * (0.01 → 0.1 → 1); if it still fails, the layer is round-to-nearest by {@link IntGroupCodec} (with dead inputs
 * zeroed) and {@link Result#fellBack} says so, for the caller to report.
 *
 * <p>Rows are independent given U and their own grids, so they are swept in parallel tiles (each tile reuses the
 * rows of U it reads); the result does not depend on the thread count.
 */
public final class Gptq {
    /** The largest damping fraction the retries reach. */
    public static final double MAX_DAMPENING = 1.0;

    /** Rows swept together, so that each row of U read from memory serves several weight rows. */
    private static final int ROW_TILE = 16;

    /**
     * @param weight      the codes, scales and zero points, shape [n][k] with kAxis 1 (see {@link #weightAs} for
     *                    other layouts); {@link IntGroupCodec#dequantize} of it equals {@code effective} bit for bit
     * @param effective   the weights the layer computes with, [n][k]
     * @param deadColumns inputs never active in calibration (H_jj = 0), ascending; their columns are zero
     * @param dampening   the λ (fraction of mean diag H) of the factorisation used, or of the last one tried when
     *                    {@code fellBack}
     * @param fellBack    whether no damping up to {@link #MAX_DAMPENING} made H factorable and the layer is RTN
     */
    public record Result(IntGroupedWeight weight, float[] effective, int[] deadColumns, double dampening, boolean fellBack) {
        /**
         * The same codes labelled as a weight of the given graph shape and K axis (0 for an ONNX MatMul [K][N]):
         * codes are stored over the [N][K] view whatever the orientation, so only the label changes.
         */
        public IntGroupedWeight weightAs(long[] shape, int kAxis) {
            IntGroupedWeight w = weight;
            IntGroupedWeight relabelled = new IntGroupedWeight(shape.clone(), kAxis, w.bits(), w.symmetric(), w.groupSize(),
                    w.codes(), w.scales(), w.zeroPoints(), w.inputScale(), w.activationBits(), w.activationScale(), w.layout());
            if (relabelled.rows() != w.rows() || relabelled.cols() != w.cols()) {
                throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " with K axis " + kAxis + " is not "
                        + w.rows() + " rows by " + w.cols() + " columns");
            }
            return relabelled;
        }
    }

    private Gptq() {}

    /**
     * @param w          weights [n][k] row-major (not modified)
     * @param gram       XᵀX [k][k] in float64; the loss is invariant to scaling it, so no 2/n
     * @param bits       4 or 8
     * @param symmetric  symmetric absmax grid, else asymmetric with a zero point (as {@link IntGroupCodec})
     * @param groupSize  columns per group; 0 or ≥ k is per output channel; need not divide k
     * @param actOrder   sweep by descending diag(H), with static groups (see the class comment)
     * @param dampening  λ, the fraction of mean(diag H) added to the diagonal (0.01 in the references)
     * @param blockSize  columns per lazy batch (128 in the references)
     * @throws BadInputException "row R: non-finite value V at index I" (the caller adds the tensor name)
     */
    public static Result quantize(float[] w, int n, int k, double[] gram, int bits, boolean symmetric, int groupSize,
                                  boolean actOrder, double dampening, int blockSize) {
        return quantize(w, n, k, prepare(gram, k, actOrder, dampening), bits, symmetric, groupSize, blockSize);
    }

    /**
     * What GPTQ needs from one input's Hessian, independent of the weight it multiplies: the sweep order and the upper
     * factor of the (damped) inverse. Layers sharing an input (q/k/v, gate/up) share one — the factorisation is the
     * O(k³) part, so computing it once per input saves most of a block's time at LLM sizes.
     */
    public record Hessian(int k, boolean actOrder, int[] perm, HessianInverse.Result inverse) {}

    public static Hessian prepare(double[] gram, int k, boolean actOrder, double dampening) {
        if (gram.length != (long) k * k) throw new IllegalArgumentException("Gram matrix is not " + k + "x" + k);
        int[] perm = actOrder ? descendingDiagonal(gram, k) : identity(k);
        return new Hessian(k, actOrder, perm, HessianInverse.prepare(permuted(gram, k, perm), k, dampening, MAX_DAMPENING));
    }

    public static Result quantize(float[] w, int n, int k, Hessian h, int bits, boolean symmetric, int groupSize, int blockSize) {
        IntGrid grid = new IntGrid(bits, symmetric);
        if (n <= 0 || k <= 0 || w.length != (long) n * k) throw new IllegalArgumentException("weights are not " + n + "x" + k);
        if (h.k() != k) throw new IllegalArgumentException("Hessian is " + h.k() + "x" + h.k() + ", weights have " + k + " columns");
        if (blockSize <= 0) throw new IllegalArgumentException("block size must be positive, got " + blockSize);
        for (int i = 0; i < w.length; i++) {
            if (!Float.isFinite(w[i])) throw new BadInputException("row " + i / k + ": non-finite value " + w[i] + " at index " + i % k);
        }
        int g = groupSize <= 0 || groupSize > k ? k : groupSize;
        int[] perm = h.perm();
        HessianInverse.Result hinv = h.inverse();
        int[] dead = new int[hinv.deadColumns().length];
        for (int i = 0; i < dead.length; i++) dead[i] = perm[hinv.deadColumns()[i]];
        Arrays.sort(dead);
        float[] live = w.clone();
        for (int j : dead) for (int r = 0; r < n; r++) live[r * k + j] = 0;
        if (hinv.failed()) {
            IntGroupedWeight rtn = IntGroupCodec.quantize(Tensor.ofFloats(live, n, k), 1, bits, symmetric, g);
            return new Result(rtn, IntGroupCodec.dequantize(rtn), dead, hinv.dampening(), true);
        }
        return new Sweep(live, n, k, g, grid, perm, h.actOrder(), hinv.upper(), blockSize).run(dead, hinv.dampening());
    }

    /** The GPTQ column sweep over permuted columns; outputs in the original column order. */
    private static final class Sweep {
        final int n, k, g, groups, rowBytes, blockSize;
        final IntGrid grid;
        final int[] perm;
        final boolean staticGroups;
        final double[] u, wd;
        final float[] scales, effective;
        final byte[] zeros, codes;

        Sweep(float[] live, int n, int k, int g, IntGrid grid, int[] perm, boolean staticGroups, double[] u, int blockSize) {
            this.n = n;
            this.k = k;
            this.g = g;
            this.groups = (k + g - 1) / g;
            this.rowBytes = (k * grid.bits + 7) / 8;
            this.blockSize = blockSize;
            this.grid = grid;
            this.perm = perm;
            this.staticGroups = staticGroups;
            this.u = u;
            this.wd = new double[n * k];
            for (int r = 0; r < n; r++) for (int c = 0; c < k; c++) wd[r * k + c] = live[r * k + perm[c]];
            this.scales = new float[n * groups];
            this.zeros = new byte[n * groups];
            this.codes = new byte[Math.multiplyExact(n, rowBytes)];
            this.effective = new float[n * k];
            if (staticGroups) {
                for (int r = 0; r < n; r++) for (int gi = 0; gi < groups; gi++) setGrid(r, gi, live, r * k + gi * g, Math.min(k, (gi + 1) * g) - gi * g);
            }
        }

        Result run(int[] dead, double dampening) {
            int tiles = (n + ROW_TILE - 1) / ROW_TILE;
            IntStream.range(0, tiles).parallel().forEach(t -> sweepRows(t * ROW_TILE, Math.min(n, (t + 1) * ROW_TILE)));
            Tensor scaleT = Tensor.ofFloats(scales, n, groups);
            Tensor zeroT = grid.symmetric ? null : Tensor.ofBytes(DType.U8, zeros, n, groups);
            IntGroupedWeight weight = new IntGroupedWeight(new long[] {n, k}, 1, grid.bits, grid.symmetric, g,
                    ByteBuffer.wrap(codes), scaleT, zeroT, null, 0, 0f, Layout.GENERIC);
            return new Result(weight, effective, dead, dampening, false);
        }

        private void setGrid(int r, int gi, float[] values, int from, int len) {
            double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY;
            for (int i = from; i < from + len; i++) {
                lo = Math.min(lo, values[i]);
                hi = Math.max(hi, values[i]);
            }
            setGrid(r, gi, lo, hi);
        }

        private void setGrid(int r, int gi, double lo, double hi) {
            float s = grid.scale(lo, hi);
            scales[r * groups + gi] = s;
            zeros[r * groups + gi] = (byte) grid.zero(lo, s);
        }

        private void sweepRows(int r0, int r1) {
            double[] err = new double[(r1 - r0) * blockSize];
            for (int i1 = 0; i1 < k; ) {
                int i2 = Math.min(k, (i1 / blockSize + 1) * blockSize);
                if (!staticGroups) i2 = Math.min(i2, (i1 / g + 1) * g);
                int width = i2 - i1;
                for (int c = i1; c < i2; c++) {
                    if (!staticGroups && c % g == 0) {
                        int to = Math.min(k, c + g);
                        for (int r = r0; r < r1; r++) {
                            double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY;
                            for (int i = r * k + c; i < r * k + to; i++) {
                                lo = Math.min(lo, wd[i]);
                                hi = Math.max(hi, wd[i]);
                            }
                            setGrid(r, c / g, lo, hi);
                        }
                    }
                    int j = perm[c], gi = j / g, urow = c * k;
                    double ucc = u[urow + c];
                    for (int r = r0; r < r1; r++) {
                        int row = r * k;
                        double v = wd[row + c];
                        float s = scales[r * groups + gi];
                        int z = zeros[r * groups + gi] & 0xFF;
                        int q = grid.code(v, s, z);
                        float dq = IntGrid.decode(q, s, z);
                        effective[row + j] = dq;
                        int stored = grid.stored(q);
                        if (grid.bits == 8) codes[r * rowBytes + j] = (byte) stored;
                        else codes[r * rowBytes + (j >>> 1)] |= (byte) ((j & 1) == 0 ? stored : stored << 4);
                        double e = (v - dq) / ucc;
                        err[(r - r0) * blockSize + (c - i1)] = e;
                        if (e == 0) continue;
                        for (int x = c + 1; x < i2; x++) wd[row + x] -= e * u[urow + x];
                    }
                }
                if (i2 < k) {
                    for (int c = i1; c < i2; c++) {
                        int urow = c * k;
                        for (int r = r0; r < r1; r++) {
                            double e = err[(r - r0) * blockSize + (c - i1)];
                            if (e == 0) continue;
                            int row = r * k;
                            for (int x = i2; x < k; x++) wd[row + x] -= e * u[urow + x];
                        }
                    }
                }
                i1 = i2;
            }
        }
    }

    /** Column order by descending diag(H), dead inputs counting as 1 (as after their repair); ties by index. */
    static int[] descendingDiagonal(double[] gram, int k) {
        Integer[] order = new Integer[k];
        double[] d = new double[k];
        for (int j = 0; j < k; j++) {
            order[j] = j;
            d[j] = gram[j * k + j] == 0 ? 1 : gram[j * k + j];
        }
        Arrays.sort(order, Comparator.<Integer>comparingDouble(j -> -d[j]).thenComparingInt(j -> j));
        int[] p = new int[k];
        for (int j = 0; j < k; j++) p[j] = order[j];
        return p;
    }

    private static int[] identity(int k) {
        int[] p = new int[k];
        for (int j = 0; j < k; j++) p[j] = j;
        return p;
    }

    /** H[perm][perm]: entry (a, b) of the result is H(perm[a], perm[b]). */
    private static double[] permuted(double[] gram, int k, int[] perm) {
        double[] h = new double[k * k];
        for (int a = 0; a < k; a++) for (int b = 0; b < k; b++) h[a * k + b] = gram[perm[a] * k + perm[b]];
        return h;
    }
}
