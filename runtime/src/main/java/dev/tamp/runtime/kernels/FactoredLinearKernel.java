package dev.tamp.runtime.kernels;

import dev.tamp.core.encoding.DictionaryWeight;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.encoding.LowRankWeight;

/**
 * A factorised weight run as two products, y = (x · firstᵀ) · secondᵀ: for low rank, first = right[r][K]
 * and second = left[N][r]; for a COMPOT dictionary, first = dictionary[k][K] and second = the codes as a
 * dense [N][k] matrix (k = 2s, so the zeros cost half the second product and the dense GEMM path is faster
 * than gathering). Each part gets its own kernel, so quantized factors run their own decoding kernels. The
 * alternative, decoding once at load to a dense [N][K] weight, is what {@link LinearKernels} does unless
 * {@code -Dtamp.factored=products} (scripts/bench.sh compot measures both).
 */
public final class FactoredLinearKernel implements LinearKernel {
    private final LinearKernel first;
    private final LinearKernel second;
    private final EncodedTensor weight;

    private FactoredLinearKernel(LinearKernel first, LinearKernel second, EncodedTensor weight) {
        if (first.outFeatures() != second.inFeatures()) {
            throw new IllegalArgumentException("factor widths differ: " + first.outFeatures() + " vs " + second.inFeatures());
        }
        this.first = first;
        this.second = second;
        this.weight = weight;
    }

    /** True when factorised weights should run as two products rather than decode at load. */
    public static boolean enabled() {
        return "products".equals(System.getProperty("tamp.factored", "decode"));
    }

    public static FactoredLinearKernel of(String name, LowRankWeight w) {
        return new FactoredLinearKernel(LinearKernels.prepare(name + "#right", w.right(), 1),
                LinearKernels.prepare(name + "#left", w.left(), 1), w);
    }

    public static FactoredLinearKernel of(String name, DictionaryWeight w) {
        FactoredWeights.Codes c = FactoredWeights.codes(w);
        return new FactoredLinearKernel(LinearKernels.prepare(name + "#dictionary", w.dictionary(), 1),
                new DenseLinearKernel(c.dense(), c.rows(), c.atoms()), w);
    }

    @Override public int inFeatures() { return first.inFeatures(); }

    @Override public int outFeatures() { return second.outFeatures(); }

    @Override
    public void forward(float[] x, int rows, float[] out, Parallel parallel) {
        float[] mid = new float[rows * first.outFeatures()];
        first.forward(x, rows, mid, parallel);
        second.forward(mid, rows, out, parallel);
    }

    @Override public float[] denseWeight() { return WeightDecoders.decode("factored weight", weight); }
}
