package dev.tamp.runtime.eval;

import java.util.Arrays;

/**
 * Metrics on sentence embeddings: cosine agreement with a reference model's embeddings, and paraphrase
 * retrieval (Recall@1, MRR). Embeddings are rows of a float[count][dim]; they need not be normalised.
 */
public final class EmbeddingMetrics {
    private EmbeddingMetrics() {}

    /** Mean, minimum and 5th percentile of per-row cosine between candidate and reference embeddings. */
    public record CosineStats(double mean, double min, double p5, int count) {}

    /** Recall@1 and mean reciprocal rank of retrieving candidate i for query i among all candidates. */
    public record Retrieval(double recallAt1, double mrr, int queries, int pool) {}

    public static double cosine(float[] a, float[] b) {
        if (a.length != b.length) throw new IllegalArgumentException("dimension " + a.length + " vs " + b.length);
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
            na += (double) a[i] * a[i];
            nb += (double) b[i] * b[i];
        }
        if (na == 0 || nb == 0) return 0;
        return dot / Math.sqrt(na * nb);
    }

    public static CosineStats cosineStats(float[][] candidate, float[][] reference) {
        if (candidate.length != reference.length || candidate.length == 0) {
            throw new IllegalArgumentException(candidate.length + " candidate vs " + reference.length + " reference rows");
        }
        double[] c = new double[candidate.length];
        double sum = 0;
        for (int i = 0; i < c.length; i++) {
            c[i] = cosine(candidate[i], reference[i]);
            sum += c[i];
        }
        double[] sorted = c.clone();
        Arrays.sort(sorted);
        int p5 = (int) Math.floor(0.05 * (sorted.length - 1));
        return new CosineStats(sum / c.length, sorted[0], sorted[p5], c.length);
    }

    /**
     * Query i's correct candidate is candidate i; candidates past the queries are distractors. Rank = 1 + number
     * of candidates scoring strictly higher than the correct one (ties count in the query's favour, as argmax
     * with the true index first would).
     */
    public static Retrieval retrieval(float[][] queries, float[][] candidates) {
        if (queries.length == 0 || candidates.length < queries.length) {
            throw new IllegalArgumentException(queries.length + " queries vs " + candidates.length + " candidates");
        }
        float[][] q = normalised(queries);
        float[][] c = normalised(candidates);
        int hits = 0;
        double rr = 0;
        for (int i = 0; i < q.length; i++) {
            double own = dot(q[i], c[i]);
            int higher = 0;
            for (int j = 0; j < c.length; j++) if (j != i && dot(q[i], c[j]) > own) higher++;
            if (higher == 0) hits++;
            rr += 1.0 / (higher + 1);
        }
        return new Retrieval((double) hits / q.length, rr / q.length, q.length, c.length);
    }

    static float[][] normalised(float[][] rows) {
        float[][] out = new float[rows.length][];
        for (int i = 0; i < rows.length; i++) {
            double n = 0;
            for (float v : rows[i]) n += (double) v * v;
            double inv = n == 0 ? 0 : 1 / Math.sqrt(n);
            out[i] = new float[rows[i].length];
            for (int k = 0; k < rows[i].length; k++) out[i][k] = (float) (rows[i][k] * inv);
        }
        return out;
    }

    private static double dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }
}
