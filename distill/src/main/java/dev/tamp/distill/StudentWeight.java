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
 * One trainable weight of the student: float master values in the graph's layout, what the forward sees (the master
 * itself; masked to the fixed 2:4 pattern; or fake-quantized — the straight-through estimator passes the gradient of the
 * fake-quantized weight to the master unchanged), and the re-encoding into the student's encoding at the end.
 */
final class StudentWeight {
    static final int MX_BLOCK = 32;

    enum Kind { DENSE, SPARSE24, INT, MX }

    final String name;
    final Kind kind;
    final long[] shape;
    final int kAxis, n, k;
    final float[] master;
    private final EncodedTensor original;
    private final boolean[] keep; // stored layout, SPARSE24 only

    private StudentWeight(String name, Kind kind, EncodedTensor original, int kAxis, float[] master, boolean[] keep) {
        this.name = name;
        this.kind = kind;
        this.original = original;
        this.shape = original.shape().clone();
        this.kAxis = kAxis;
        this.n = (int) EncodedTensor.rows(shape, kAxis);
        this.k = (int) EncodedTensor.cols(shape, kAxis);
        this.master = master;
        this.keep = keep;
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
        throw new UnsupportedModelException("weight " + name + " is encoded as " + w.describe()
                + "; distill trains dense, 2:4 (float values), int weight-only and MX students (COMPOT factors are not supported yet)");
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
            default:
                return master;
        }
    }

    /** Zeroes the gradient at pruned positions (the mask stays fixed). */
    void projectGradient(float[] g) {
        if (keep == null) return;
        for (int i = 0; i < g.length; i++) if (!keep[i]) g[i] = 0f;
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
