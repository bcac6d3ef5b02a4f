package dev.tamp.compot;

import dev.tamp.core.tensor.Tensor;
import dev.tamp.runtime.linalg.Matrix;

/**
 * One compressible linear layer: its weight as the graph stores it ({@code kAxis} = the input/reduction
 * axis: 0 for an ONNX MatMul initializer [K][N], 1 for a PyTorch Linear [N][K]) and the float64 Gram of
 * its calibration inputs {@code G = Xᵀ X} ([K][K], any positive scale).
 */
public record LayerInput(Tensor weight, int kAxis, Matrix gram) {

    public LayerInput {
        if (weight.rank() != 2) throw new IllegalArgumentException("weight must be a matrix, got rank " + weight.rank());
        if (!weight.dtype().isFloatingPoint()) throw new IllegalArgumentException("weight must be floating point, got " + weight.dtype());
        if (kAxis != 0 && kAxis != 1) throw new IllegalArgumentException("kAxis must be 0 or 1, got " + kAxis);
        long k = weight.dim(kAxis);
        if (k > 65536 || weight.dim(1 - kAxis) > 1 << 20) {
            throw new IllegalArgumentException("weight " + weight.dim(0) + "x" + weight.dim(1) + " too large for a dense float64 factorisation");
        }
        if (gram.rows() != k || gram.cols() != k) {
            throw new IllegalArgumentException("Gram is " + gram.rows() + "x" + gram.cols() + ", the weight's input width is " + k);
        }
    }

    /** Output channels N. */
    public int outFeatures() { return (int) weight.dim(1 - kAxis); }

    /** Input channels K. */
    public int inFeatures() { return (int) weight.dim(kAxis); }

    /** The weight as float64 [N][K] (PyTorch orientation), whatever the stored orientation. */
    public Matrix weightNK() {
        float[] v = weight.toFloatArray();
        for (float f : v) if (!Float.isFinite(f)) throw new IllegalArgumentException("weight has NaN or infinite values");
        Matrix stored = Matrix.ofFloats((int) weight.dim(0), (int) weight.dim(1), v);
        return kAxis == 1 ? stored : stored.transpose();
    }
}
