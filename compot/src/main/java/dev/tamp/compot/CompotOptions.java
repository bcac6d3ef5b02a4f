package dev.tamp.compot;

/**
 * Options of {@link Compot#compress}.
 *
 * @param method            compot, svd or svd-whitened
 * @param ratio             stored bytes / dense float32 bytes over the compressed layers, in (0, 1];
 *                          1 keeps every layer dense
 * @param globalAllocation  true: one model-wide budget split by the pooled normalised spectra
 *                          (algorithms.md §3.4); false: every layer at {@code ratio}
 * @param iterations        COMPOT alternations (20 in the paper's main runs)
 * @param damping           starting relative damping ε of the Gram (ε·mean(diag G) added to the diagonal)
 * @param seed              seeds the random dictionary initialisation (only used with {@code Init.RANDOM})
 */
public record CompotOptions(Method method, double ratio, boolean globalAllocation, int iterations, double damping, long seed,
                            OrthogonalDictionary.Init init) {

    public static final int DEFAULT_ITERATIONS = 20;
    public static final double DEFAULT_DAMPING = 1e-6;

    public CompotOptions {
        if (method == null) throw new IllegalArgumentException("method is required");
        if (!(ratio > 0) || ratio > 1) throw new IllegalArgumentException("ratio must be in (0, 1], got " + ratio);
        if (iterations < 0) throw new IllegalArgumentException("iterations must be >= 0, got " + iterations);
        if (!(damping >= 0) || damping > Whitening.MAX_DAMPING) {
            throw new IllegalArgumentException("damping must be in [0, " + Whitening.MAX_DAMPING + "], got " + damping);
        }
        if (init == null) init = OrthogonalDictionary.Init.SVD;
    }

    public CompotOptions(Method method, double ratio, boolean globalAllocation, int iterations, double damping, long seed) {
        this(method, ratio, globalAllocation, iterations, damping, seed, OrthogonalDictionary.Init.SVD);
    }

    /** The paper's defaults: 20 alternations, SVD initialisation, global allocation. */
    public static CompotOptions defaults(Method method, double ratio) {
        return new CompotOptions(method, ratio, true, DEFAULT_ITERATIONS, DEFAULT_DAMPING, 0L);
    }

    public CompotOptions withMethod(Method m) {
        return new CompotOptions(m, ratio, globalAllocation, iterations, damping, seed, init);
    }

    public CompotOptions withGlobalAllocation(boolean global) {
        return new CompotOptions(method, ratio, global, iterations, damping, seed, init);
    }
}
