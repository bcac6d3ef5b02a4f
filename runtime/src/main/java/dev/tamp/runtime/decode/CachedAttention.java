package dev.tamp.runtime.decode;

import dev.tamp.runtime.arch.LlamaConfig;
import dev.tamp.runtime.kernels.Parallel;
import dev.tamp.runtime.kernels.VectorMath;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Causal scaled-dot-product attention of new queries over a layer's cached keys and values, with grouped
 * query heads reading their shared kv head in place (query head h uses kv head h / (heads / kvHeads), the
 * graph's repeat order) instead of materialising repeated K/V. The query at position p sees positions 0..p —
 * the causal mask, without a mask.
 */
final class CachedAttention {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private final LlamaConfig c;
    private final float scale;

    CachedAttention(LlamaConfig c) {
        this.c = c;
        // the graph multiplies the scores by this float constant
        this.scale = (float) (1.0 / Math.sqrt(c.headDim()));
    }

    /**
     * @param q     rows × (heads · hd) rotated queries; row j is at position first + j
     * @param keys  cached keys, position-major rows of kvHeads · hd, filled up to first + rows
     * @param ctx   out: rows × (heads · hd) attention outputs
     */
    void attend(float[] q, int rows, int first, float[] keys, float[] values, float[] ctx, Parallel parallel) {
        int heads = c.heads(), hd = c.headDim(), qDim = heads * hd, kvDim = c.kvDim(), group = heads / c.kvHeads();
        parallel.forRange(rows * heads, 1, (from, to) -> {
            float[] scores = new float[first + rows];
            for (int task = from; task < to; task++) {
                int j = task / heads, h = task % heads, seen = first + j + 1;
                int qo = j * qDim + h * hd, kvo = (h / group) * hd;
                for (int u = 0; u < seen; u++) scores[u] = dot(q, qo, keys, u * kvDim + kvo, hd) * scale;
                VectorMath.softmaxRows(scores, seen, 0, 1);
                java.util.Arrays.fill(ctx, qo, qo + hd, 0f);
                for (int u = 0; u < seen; u++) axpy(scores[u], values, u * kvDim + kvo, ctx, qo, hd);
            }
        });
    }

    static float dot(float[] a, int ao, float[] b, int bo, int n) {
        int i = 0, bound = S.loopBound(n);
        float s = 0;
        if (bound > 0) {
            FloatVector acc = FloatVector.zero(S);
            for (; i < bound; i += S.length()) acc = FloatVector.fromArray(S, a, ao + i).fma(FloatVector.fromArray(S, b, bo + i), acc);
            s = VectorMath.sum(acc);
        }
        for (; i < n; i++) s += a[ao + i] * b[bo + i];
        return s;
    }

    /** y[yo ..] += alpha · x[xo ..] over n elements. */
    static void axpy(float alpha, float[] x, int xo, float[] y, int yo, int n) {
        int i = 0, bound = S.loopBound(n);
        if (bound > 0) {
            FloatVector a = FloatVector.broadcast(S, alpha);
            for (; i < bound; i += S.length()) {
                FloatVector.fromArray(S, x, xo + i).fma(a, FloatVector.fromArray(S, y, yo + i)).intoArray(y, yo + i);
            }
        }
        for (; i < n; i++) y[yo + i] += alpha * x[xo + i];
    }
}
