package dev.tamp.core.encoding;

import dev.tamp.core.tensor.Tensor;

/**
 * A weight in one of tamp's encodings. Every quantized or structured encoding views its weight as a
 * matrix of N output rows by K reduction columns, whatever the graph's orientation: {@code shape} is
 * the graph value's shape and {@code kAxis} says which of its two axes is K (0 for an ONNX MatMul
 * initializer [K][N], 1 for a PyTorch Linear weight [N][K]). Codes are stored row by row over [N][K].
 */
public sealed interface EncodedTensor
        permits DenseWeight, IntGroupedWeight, MxWeight, Sparse24Weight, LowRankWeight, DictionaryWeight {

    /** The shape of the value the graph sees (dequantized). */
    long[] shape();

    /** Bytes this encoding stores (all planes), for size reports and ratio accounting. */
    long storageBytes();

    /** A short human name: "f32", "int4-asym-g128", "mxfp4", "2:4(int8)", ... */
    String describe();

    default long numel() {
        return Tensor.numel(shape());
    }

    /** Rows N of the [N][K] view of a rank-2 weight with the given K axis. */
    static long rows(long[] shape, int kAxis) {
        requireMatrix(shape);
        return shape[1 - kAxis];
    }

    /** Columns K of the [N][K] view of a rank-2 weight with the given K axis. */
    static long cols(long[] shape, int kAxis) {
        requireMatrix(shape);
        return shape[kAxis];
    }

    private static void requireMatrix(long[] shape) {
        if (shape.length != 2) throw new IllegalArgumentException("encoded weights are matrices, got rank " + shape.length);
    }
}
