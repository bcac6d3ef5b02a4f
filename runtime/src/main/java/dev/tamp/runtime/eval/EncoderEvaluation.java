package dev.tamp.runtime.eval;

import dev.tamp.runtime.data.CalibrationSampler;
import dev.tamp.runtime.data.ParaphrasePairs;
import dev.tamp.runtime.data.TextCorpus;
import dev.tamp.runtime.exec.ExecutionListener;
import dev.tamp.runtime.pipeline.Embedder;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The encoder evaluation: KJV→WEB paraphrase retrieval (Recall@1, MRR) and, against a reference model,
 * cosine agreement on held-out sentences (never the calibration split).
 */
public final class EncoderEvaluation {
    private EncoderEvaluation() {}

    /** Queries: {@code pairs} KJV verses evenly spaced; pool: their WEB verses plus seeded distractors up to {@code pool}. */
    public static EmbeddingMetrics.Retrieval retrieval(Embedder e, int pairs, int pool, long seed, int batchSize) {
        List<ParaphrasePairs.Pair> all = ParaphrasePairs.all();
        List<ParaphrasePairs.Pair> chosen = ParaphrasePairs.evenlySpaced(pairs);
        List<String> queries = new ArrayList<>(), candidates = new ArrayList<>();
        java.util.Set<String> used = new java.util.HashSet<>();
        for (ParaphrasePairs.Pair p : chosen) {
            queries.add(p.kjv());
            candidates.add(p.web());
            used.add(p.ref());
        }
        SplittableRandom r = new SplittableRandom(seed);
        while (candidates.size() < pool && used.size() < all.size()) {
            ParaphrasePairs.Pair d = all.get(r.nextInt(all.size()));
            if (used.add(d.ref())) candidates.add(d.web());
        }
        float[][] q = e.embed(queries, batchSize, ExecutionListener.NONE);
        float[][] c = e.embed(candidates, batchSize, ExecutionListener.NONE);
        return EmbeddingMetrics.retrieval(q, c);
    }

    /** Held-out sentences (seeded sample of the held-out split). */
    public static List<String> heldOutSentences(int count, long seed) {
        return CalibrationSampler.sample(TextCorpus.bundled(TextCorpus.Split.HELD_OUT), CalibrationSampler.Mode.SENTENCE, count, seed, 0);
    }
}
