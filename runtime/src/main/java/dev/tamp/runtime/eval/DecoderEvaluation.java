package dev.tamp.runtime.eval;

import dev.tamp.runtime.exec.ExecutionListener;
import dev.tamp.runtime.pipeline.Generator;

/**
 * The decoder evaluation without a tokenizer (data README): sequences sampled from the reference with a fixed
 * seed, then per position KL(reference ‖ candidate), top-1 agreement and both models' perplexity on them.
 */
public final class DecoderEvaluation {
    private DecoderEvaluation() {}

    /** Samples {@code count} sequences of {@code length} tokens from BOS (id 1) at temperature 1. */
    public static long[][] sample(Generator reference, int count, int length, long seed) {
        long[][] seqs = new long[count][];
        for (int i = 0; i < count; i++) seqs[i] = reference.generate(new long[] {1}, length - 1, 1.0, seed + i);
        return seqs;
    }

    public static DecoderMetrics compare(Generator reference, Generator candidate, long[][] sequences) {
        DecoderMetrics m = new DecoderMetrics();
        float[][][] ref = reference.logits(sequences, ExecutionListener.NONE);
        float[][][] cand = candidate.logits(sequences, ExecutionListener.NONE);
        for (int i = 0; i < sequences.length; i++) {
            for (int t = 0; t + 1 < sequences[i].length; t++) m.add(ref[i][t], cand[i][t], (int) sequences[i][t + 1]);
        }
        return m;
    }
}
