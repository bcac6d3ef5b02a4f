package dev.tamp.runtime.decode;

import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.encoding.IntGroupedWeight;
import dev.tamp.core.encoding.Layout;
import dev.tamp.core.encoding.MxWeight;
import dev.tamp.core.tensor.DType;
import dev.tamp.core.tensor.Tensor;
import dev.tamp.formats.codec.IntGroupCodec;
import dev.tamp.formats.codec.MxMatrix;
import dev.tamp.formats.codec.PackLayouts;
import dev.tamp.runtime.kernels.WeightDecoders;

/**
 * Reads token rows of an embedding table [vocab][dim] as F32, one row per token looked up. A decode step needs
 * one row, so the table stays as stored (BF16, F16, int-grouped, MX) instead of being decoded whole to F32 the
 * way the graph's Gather operand is; only an encoding with no row decoder (2:4, factored) is decoded once.
 */
abstract class EmbeddingRows {
    final int dim;

    private EmbeddingRows(int dim) {
        this.dim = dim;
    }

    /** Writes the row of {@code token} into out[off .. off + dim). */
    abstract void read(int token, float[] out, int off);

    static EmbeddingRows of(String name, EncodedTensor w, int dim) {
        if (w instanceof DenseWeight d) return dense(d.tensor(), dim);
        // row r of an [N][K] encoding is a token's row only when K (the encoded axis) is the embedding width
        if (w instanceof IntGroupedWeight g && g.kAxis() == 1 && g.activationBits() == 0 && g.inputScale() == null) {
            IntGroupedWeight generic = (IntGroupedWeight) PackLayouts.toGeneric(g); // a device layout unpacks once, still encoded
            return new EmbeddingRows(dim) {
                @Override void read(int token, float[] out, int off) { IntGroupCodec.dequantizeRow(generic, token, out, off); }
            };
        }
        if (w instanceof MxWeight m && m.kAxis() == 1) {
            MxWeight generic = m.layout() == Layout.GENERIC ? m : (MxWeight) PackLayouts.toGeneric(m);
            return new EmbeddingRows(dim) {
                @Override void read(int token, float[] out, int off) { MxMatrix.dequantizeRow(generic, token, out, off); }
            };
        }
        return dense(Tensor.ofFloats(WeightDecoders.decodeAsStored(name, w), w.shape()), dim);
    }

    private static EmbeddingRows dense(Tensor t, int dim) {
        if (t.dtype() == DType.F32) {
            java.nio.FloatBuffer f = t.data().order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
            return new EmbeddingRows(dim) {
                @Override void read(int token, float[] out, int off) { f.get((int) ((long) token * dim), out, off, dim); }
            };
        }
        return new EmbeddingRows(dim) {
            @Override void read(int token, float[] out, int off) {
                long base = (long) token * dim;
                for (int i = 0; i < dim; i++) out[off + i] = t.getFloat(base + i);
            }
        };
    }
}
