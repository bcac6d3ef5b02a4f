package dev.tamp.runtime.kernels;

/**
 * y[m][n] = Σ_k x[m][k] · W[n][k] for a weight prepared once (dequantized, re-laid out or kept encoded) and
 * applied many times. Implementations exist per weight encoding; the executor only sees this interface.
 */
public interface LinearKernel {
    int inFeatures();

    int outFeatures();

    /** Computes {@code rows} output rows; x is [rows][inFeatures], out is [rows][outFeatures]. */
    void forward(float[] x, int rows, float[] out, Parallel parallel);

    /** The weight as dense [outFeatures][inFeatures] floats (reference path, reports, exports). */
    float[] denseWeight();
}
