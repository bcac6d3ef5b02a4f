package dev.tamp.runtime.eval;

import static org.junit.jupiter.api.Assertions.*;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class EmbeddingMetricsTest {
    @Test
    void identicalEmbeddingsGivePerfectScores() {
        float[][] e = random(50, 16, 1);
        var c = EmbeddingMetrics.cosineStats(e, e);
        assertEquals(1.0, c.mean(), 1e-6);
        assertEquals(1.0, c.min(), 1e-6);
        var r = EmbeddingMetrics.retrieval(e, e);
        assertEquals(1.0, r.recallAt1());
        assertEquals(1.0, r.mrr(), 1e-12);
    }

    @Test
    void shiftedCandidatesGiveKnownRanks() {
        // candidate i is query (i+1): the true match for query i is never the best, it sits at a rank we can count.
        float[][] q = random(20, 32, 2);
        float[][] c = new float[20][];
        for (int i = 0; i < 20; i++) c[i] = q[(i + 1) % 20];
        var r = EmbeddingMetrics.retrieval(q, c);
        assertEquals(0.0, r.recallAt1());
        assertTrue(r.mrr() < 0.5, "mrr " + r.mrr());
    }

    @Test
    void cosineIsScaleInvariantAndSigned() {
        assertEquals(1.0, EmbeddingMetrics.cosine(new float[] {1, 2, 3}, new float[] {2, 4, 6}), 1e-9);
        assertEquals(-1.0, EmbeddingMetrics.cosine(new float[] {1, 0}, new float[] {-3, 0}), 1e-9);
    }

    @Test
    void klIsZeroForIdenticalAndPositiveOtherwise() {
        DecoderMetrics same = new DecoderMetrics();
        DecoderMetrics diff = new DecoderMetrics();
        float[] a = {1, 2, 3, 0.5f};
        float[] b = {1, 2.5f, 2, 0.5f};
        same.add(a, a, 2);
        diff.add(a, b, 2);
        assertEquals(0, same.meanKl(), 1e-12);
        assertEquals(1.0, same.top1Agreement());
        assertTrue(diff.meanKl() > 0);
        assertEquals(0.0, diff.top1Agreement());
        // KL by hand: p = softmax(a), q = softmax(b)
        double[] p = DecoderMetrics.logSoftmax(a), q = DecoderMetrics.logSoftmax(b);
        double kl = 0;
        for (int i = 0; i < 4; i++) kl += Math.exp(p[i]) * (p[i] - q[i]);
        assertEquals(kl, diff.meanKl(), 1e-12);
        assertEquals(Math.exp(-p[2]), same.referencePerplexity(), 1e-9);
    }

    static float[][] random(int n, int d, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[][] out = new float[n][d];
        for (float[] row : out) for (int i = 0; i < d; i++) row[i] = (float) r.nextGaussian();
        return out;
    }
}
