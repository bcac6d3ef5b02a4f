package dev.tamp.distill;

import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.encoding.IntGroupedWeight;
import dev.tamp.core.encoding.MxFormat;
import dev.tamp.core.encoding.MxWeight;
import dev.tamp.core.encoding.Sparse24Weight;
import dev.tamp.core.error.UnsupportedModelException;
import dev.tamp.core.tensor.Tensor;
import dev.tamp.formats.codec.IntGroupCodec;
import dev.tamp.formats.codec.MxMatrix;
import dev.tamp.formats.codec.ScaleRule;
import dev.tamp.formats.codec.Sparse24Codec;
import dev.tamp.runtime.kernels.WeightDecoders;

/**
 * One trainable weight of the student: float master values, what the forward sees (the master itself; masked to the
 * fixed 2:4 pattern; fake-quantized — the straight-through estimator passes the gradient of the fake-quantized weight to
 * the master unchanged; or the product of COMPOT / low-rank factors), and the re-encoding into the student's encoding at
 * the end. For dense, 2:4, int and MX students the master is the weight in the graph's layout; for factored students
 * it is the factors, and the weight's gradient G ([N][K] rows) reaches them by the chain rule: W = A·B gives
 * ∂A = G·Bᵀ and ∂B = Aᵀ·G (for COMPOT, A is the sparse code matrix on its fixed support, B the dictionary).
 */
final class StudentWeight {
    static final int MX_BLOCK = 32;

    enum Kind { DENSE, SPARSE24, INT, MX, LOWRANK, DICTIONARY }

    final String name;
    final Kind kind;
    final long[] shape;
    final int kAxis, n, k;
    final float[] master;
    private final EncodedTensor original;
    private final boolean[] keep; // stored layout, SPARSE24 only
    private final int inner;      // LOWRANK: rank r; DICTIONARY: atoms k
    private final int[][] support; // DICTIONARY: the atoms of each output row (fixed)

    private StudentWeight(String name, Kind kind, EncodedTensor original, int kAxis, float[] master, boolean[] keep) {
        this(name, kind, original, kAxis, master, keep, 0, null);
    }

    private StudentWeight(String name, Kind kind, EncodedTensor original, int kAxis, float[] master, boolean[] keep, int inner, int[][] support) {
        this.name = name;
        this.kind = kind;
        this.original = original;
        this.shape = original.shape().clone();
        this.kAxis = kAxis;
        this.n = (int) EncodedTensor.rows(shape, kAxis);
        this.k = (int) EncodedTensor.cols(shape, kAxis);
        this.master = master;
        this.keep = keep;
        this.inner = inner;
        this.support = support;
    }

    /** A student weight from its encoding; {@code kAxis} is the linear layer's reduction axis; {@code mx} selects MF-QAT. */
    static StudentWeight of(String name, EncodedTensor w, int kAxis, boolean mx) {
        if (w.shape().length != 2) throw new UnsupportedModelException("weight " + name + " is not 2-D; only linear weights are trained");
        float[] stored = WeightDecoders.decodeAsStored(name, w);
        if (w instanceof DenseWeight) return new StudentWeight(name, mx ? Kind.MX : Kind.DENSE, w, kAxis, stored, null);
        if (mx) throw new UnsupportedModelException("weight " + name + " is already encoded (" + w.describe() + "); MF-QAT trains an FP32 student");
        if (w instanceof Sparse24Weight s) {
            if (!(s.values() instanceof DenseWeight)) {
                throw new UnsupportedModelException("weight " + name + " is 2:4 with " + s.values().describe()
                        + " values; distill a float 2:4 student, then quantize it");
            }
            int n = (int) s.rows(), k = (int) s.cols();
            float[] ones = new float[n * k / 2];
            java.util.Arrays.fill(ones, 1f);
            float[] rowMask = Sparse24Codec.scatter(ones, s.indices(), n, k);
            boolean[] keep = new boolean[rowMask.length];
            float[] storedMask = fromRows(rowMask, n, k, s.kAxis());
            for (int i = 0; i < keep.length; i++) keep[i] = storedMask[i] != 0f;
            return new StudentWeight(name, Kind.SPARSE24, w, s.kAxis(), stored, keep);
        }
        if (w instanceof IntGroupedWeight q) {
            if (q.inputScale() != null || q.activationBits() != 0) {
                throw new UnsupportedModelException("weight " + name + " (" + q.describe() + ") quantizes activations or carries an input scale; "
                        + "only weight-only integer students are supported");
            }
            return new StudentWeight(name, Kind.INT, w, q.kAxis(), stored, null);
        }
        if (w instanceof dev.tamp.core.encoding.LowRankWeight l) {
            float[] left = floatFactor(name, "left factor", l.left()), right = floatFactor(name, "right factor", l.right());
            return new StudentWeight(name, Kind.LOWRANK, w, l.kAxis(), concat(left, right), null, Math.toIntExact(l.right().shape()[0]), null);
        }
        if (w instanceof dev.tamp.core.encoding.DictionaryWeight d) {
            float[] values = floatFactor(name, "code values", d.codeValues()), dict = floatFactor(name, "dictionary", d.dictionary());
            int rows = Math.toIntExact(EncodedTensor.rows(d.shape(), d.kAxis()));
            int[][] sup = new int[rows][];
            for (int r = 0; r < rows; r++) sup[r] = d.support(r);
            return new StudentWeight(name, Kind.DICTIONARY, w, d.kAxis(), concat(values, dict), null, d.atoms(), sup);
        }
        throw new UnsupportedModelException("weight " + name + " is encoded as " + w.describe()
                + "; distill trains dense, 2:4 (float values), int weight-only, MX and COMPOT / low-rank (float factors) students");
    }

    /** A factor's floats, refused unless stored in float (quantized factors: distil the float student, then quantize). */
    private static float[] floatFactor(String name, String what, EncodedTensor f) {
        if (!(f instanceof DenseWeight)) {
            throw new UnsupportedModelException("weight " + name + " has a " + f.describe() + " " + what + "; distill a float-factor student, then quantize it");
        }
        return WeightDecoders.decode(what, f);
    }

    private static float[] concat(float[] a, float[] b) {
        float[] c = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    /**
     * The weight the forward uses this step (stored layout). MF-QAT: {@code format} is the sampled MX format, reached the way a
     * deployment reaches it — quantized to the {@code anchor}, then sliced.
     */
    float[] effective(MxFormat format, MxFormat anchor) {
        switch (kind) {
            case SPARSE24: {
                float[] e = master.clone();
                for (int i = 0; i < e.length; i++) if (!keep[i]) e[i] = 0f;
                return e;
            }
            case INT: {
                IntGroupedWeight q = (IntGroupedWeight) original;
                return fromRows(IntGroupCodec.dequantize(requantize(q)), n, k, kAxis);
            }
            case MX: {
                // what ships: the anchor, sliced to the sampled format by Slice-and-Scale (tamp mx-slice)
                MxWeight a = MxMatrix.quantize(Tensor.ofFloats(master, shape), kAxis, anchor, MX_BLOCK, ScaleRule.FLOOR);
                return fromRows(MxMatrix.dequantize(format == anchor ? a : MxMatrix.slice(a, format)), n, k, kAxis);
            }
            case LOWRANK:
                return fromRows(product(master, 0, master, n * inner, n, inner, k), n, k, kAxis);
            case DICTIONARY:
                return fromRows(dictionaryProduct(), n, k, kAxis);
            default:
                return master;
        }
    }

    /** W = codes · dictionary as [N][K] rows: each row sums its s atoms' dictionary rows. */
    private float[] dictionaryProduct() {
        int s = support[0].length, dictAt = n * s;
        float[] w = new float[n * k];
        for (int r = 0; r < n; r++) {
            for (int j = 0; j < s; j++) {
                float c = master[r * s + j];
                int d = dictAt + support[r][j] * k;
                for (int p = 0; p < k; p++) w[r * k + p] += c * master[d + p];
            }
        }
        return w;
    }

    /** a[n][r] · b[r][k] (row-major, starting at the given offsets). */
    private static float[] product(float[] a, int aAt, float[] b, int bAt, int n, int r, int k) {
        float[] out = new float[n * k];
        for (int i = 0; i < n; i++) {
            for (int q = 0; q < r; q++) {
                float av = a[aAt + i * r + q];
                int bo = bAt + q * k, oo = i * k;
                for (int c = 0; c < k; c++) out[oo + c] += av * b[bo + c];
            }
        }
        return out;
    }

    /**
     * The gradient of the master from the gradient of the effective weight (stored layout): the 2:4 mask applied for
     * sparse students, the chain rule through the product for factored ones, the weight's own gradient otherwise.
     */
    float[] parameterGradient(float[] g) {
        switch (kind) {
            case SPARSE24: {
                for (int i = 0; i < g.length; i++) if (!keep[i]) g[i] = 0f;
                return g;
            }
            case LOWRANK: {
                float[] gr = toRows(g, n, k, kAxis), out = new float[master.length];
                int rightAt = n * inner;
                for (int i = 0; i < n; i++) {
                    for (int q = 0; q < inner; q++) {
                        float a = master[i * inner + q], dl = 0;
                        int bo = rightAt + q * k;
                        for (int c = 0; c < k; c++) {
                            float gv = gr[i * k + c];
                            dl += gv * master[bo + c];      // ∂left[i][q] = Σ_c G[i][c]·right[q][c]
                            out[bo + c] += a * gv;          // ∂right[q][c] = Σ_i left[i][q]·G[i][c]
                        }
                        out[i * inner + q] = dl;
                    }
                }
                return out;
            }
            case DICTIONARY: {
                float[] gr = toRows(g, n, k, kAxis), out = new float[master.length];
                int s = support[0].length, dictAt = n * s;
                for (int r = 0; r < n; r++) {
                    for (int j = 0; j < s; j++) {
                        float c = master[r * s + j], dc = 0;
                        int d = dictAt + support[r][j] * k;
                        for (int p = 0; p < k; p++) {
                            float gv = gr[r * k + p];
                            dc += gv * master[d + p];     // ∂code[r][j] = G[r]·dict[atom]
                            out[d + p] += c * gv;         // ∂dict[atom] += code[r][j]·G[r]
                        }
                        out[r * s + j] = dc;
                    }
                }
                return out;
            }
            default:
                return g;
        }
    }

    /** The trained weight in the student's encoding ({@code anchor} for MF-QAT). */
    EncodedTensor encode(MxFormat anchor) {
        switch (kind) {
            case SPARSE24: {
                Sparse24Weight s = (Sparse24Weight) original;
                float[] rows = toRows(master, n, k, kAxis);
                int[] cols = Sparse24Codec.columns(s.indices(), n, k);
                float[] values = new float[n * (k / 2)];
                for (int r = 0; r < n; r++) for (int j = 0; j < k / 2; j++) values[r * (k / 2) + j] = rows[r * k + cols[r * (k / 2) + j]];
                return Sparse24Codec.withValues(s, new DenseWeight(Tensor.ofFloats(values, n, k / 2)));
            }
            case INT:
                return requantize((IntGroupedWeight) original);
            case MX:
                return MxMatrix.quantize(Tensor.ofFloats(master, shape), kAxis, anchor, MX_BLOCK, ScaleRule.FLOOR);
            case LOWRANK: {
                dev.tamp.core.encoding.LowRankWeight l = (dev.tamp.core.encoding.LowRankWeight) original;
                int leftLen = n * inner;
                return new dev.tamp.core.encoding.LowRankWeight(l.shape(), l.kAxis(),
                        new DenseWeight(Tensor.ofFloats(java.util.Arrays.copyOfRange(master, 0, leftLen), l.left().shape())),
                        new DenseWeight(Tensor.ofFloats(java.util.Arrays.copyOfRange(master, leftLen, master.length), l.right().shape())));
            }
            case DICTIONARY: {
                dev.tamp.core.encoding.DictionaryWeight d = (dev.tamp.core.encoding.DictionaryWeight) original;
                int valuesLen = n * support[0].length;
                return new dev.tamp.core.encoding.DictionaryWeight(d.shape(), d.kAxis(),
                        new DenseWeight(Tensor.ofFloats(java.util.Arrays.copyOfRange(master, valuesLen, master.length), d.dictionary().shape())),
                        new DenseWeight(Tensor.ofFloats(java.util.Arrays.copyOfRange(master, 0, valuesLen), d.codeValues().shape())),
                        d.codeMask(), d.sparsity());
            }
            default:
                return new DenseWeight(Tensor.ofFloats(master.clone(), shape));
        }
    }

    private IntGroupedWeight requantize(IntGroupedWeight q) {
        return IntGroupCodec.quantize(Tensor.ofFloats(master, shape), kAxis, q.bits(), q.symmetric(), q.groupSize());
    }

    /** [N][K] rows of a stored-layout matrix. */
    static float[] toRows(float[] stored, int n, int k, int kAxis) {
        if (kAxis == 1) return stored;
        float[] r = new float[stored.length];
        for (int p = 0; p < k; p++) for (int j = 0; j < n; j++) r[j * k + p] = stored[p * n + j];
        return r;
    }

    /** Stored layout of [N][K] rows. */
    static float[] fromRows(float[] rows, int n, int k, int kAxis) {
        if (kAxis == 1) return rows;
        float[] s = new float[rows.length];
        for (int j = 0; j < n; j++) for (int p = 0; p < k; p++) s[p * n + j] = rows[j * k + p];
        return s;
    }
}
