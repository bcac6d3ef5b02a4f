package dev.tamp.formats.codec;

import dev.tamp.core.tensor.DType;
import dev.tamp.core.tensor.Tensor;
import java.nio.FloatBuffer;

/**
 * The [N][K] row view of a 2-D float weight whatever its orientation ({@code kAxis} 1: stored [N][K], PyTorch
 * Linear; {@code kAxis} 0: stored [K][N], ONNX MatMul), read a tile of consecutive rows at a time straight from
 * the tensor's (possibly memory-mapped) bytes. For [K][N] storage a tile gathers {@code count} contiguous floats
 * from each of the K stored rows, so memory is read sequentially and no transposed copy of the tensor is made.
 */
public final class FloatRows {
    private final Tensor t;
    private final int kAxis;
    private final int n;
    private final int k;
    private final int stored; // length of a stored row

    public FloatRows(Tensor t, int kAxis) {
        long[] s = t.shape();
        if (s.length != 2 || (kAxis != 0 && kAxis != 1)) throw new IllegalArgumentException("need a 2-D weight and kAxis 0 or 1");
        if (!t.dtype().isFloatingPoint()) throw new IllegalArgumentException("weight is " + t.dtype() + ", not a float type");
        if (s[0] * s[1] > Integer.MAX_VALUE) throw new IllegalArgumentException("weight of " + s[0] + "x" + s[1] + " elements is too large");
        this.t = t;
        this.kAxis = kAxis;
        this.n = (int) s[1 - kAxis];
        this.k = (int) s[kAxis];
        this.stored = (int) s[1];
    }

    public int rows() { return n; }

    public int cols() { return k; }

    /** Rows first .. first+count−1 into out[0 .. count·K), row-major. */
    public void read(int first, int count, float[] out) {
        if (t.dtype() == DType.F32) {
            FloatBuffer fb = t.data().asFloatBuffer();
            if (kAxis == 1) {
                fb.get(first * k, out, 0, count * k);
            } else {
                float[] line = new float[count];
                for (int p = 0; p < k; p++) {
                    fb.get(p * stored + first, line, 0, count);
                    for (int j = 0; j < count; j++) out[j * k + p] = line[j];
                }
            }
        } else {
            for (int j = 0; j < count; j++) {
                for (int p = 0; p < k; p++) {
                    long at = kAxis == 1 ? (long) (first + j) * k + p : (long) p * stored + first + j;
                    out[j * k + p] = t.getFloat(at);
                }
            }
        }
    }

    /** Tiles of rows sized so that one tile's floats stay near {@code targetFloats} (at least one row). */
    public int tileRows(int targetFloats) {
        return Math.max(1, Math.min(n, targetFloats / Math.max(1, k)));
    }
}
