package dev.tamp.runtime.pipeline;

import dev.tamp.core.ir.Model;
import dev.tamp.runtime.exec.Backend;
import dev.tamp.runtime.exec.ExecutionListener;
import dev.tamp.runtime.exec.Session;
import dev.tamp.runtime.exec.Value;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Decoder inference on a logits graph (input_ids [B, S] → logits [B, S, V]): next-token logits for whole
 * sequences, and greedy or seeded sampling. The graph recomputes the full prefix each step (no KV cache):
 * simple and exact, adequate for the small decoders tamp evaluates.
 */
public final class Generator implements AutoCloseable {
    private final Session session;

    public Generator(Model model, Backend backend) {
        this.session = backend.open(model);
    }

    /** Logits [B][S][V] for equal-length sequences. */
    public float[][][] logits(long[][] tokens, ExecutionListener listener) {
        int b = tokens.length, s = tokens[0].length;
        long[] ids = new long[b * s];
        for (int i = 0; i < b; i++) System.arraycopy(tokens[i], 0, ids, i * s, s);
        Value out = session.run(Map.of("input_ids", Value.longs(ids, b, s)), List.of("logits"), listener).get("logits");
        int v = out.shape[2];
        float[][][] r = new float[b][s][];
        for (int i = 0; i < b; i++) for (int t = 0; t < s; t++) r[i][t] = Arrays.copyOfRange(out.floats, (i * s + t) * v, (i * s + t + 1) * v);
        return r;
    }

    /**
     * Continues {@code prompt} by {@code newTokens} tokens: greedy when temperature ≤ 0, else sampling from
     * softmax(logits / temperature) with a seeded generator.
     */
    public long[] generate(long[] prompt, int newTokens, double temperature, long seed) {
        long[] seq = Arrays.copyOf(prompt, prompt.length + newTokens);
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int t = prompt.length; t < seq.length; t++) {
            float[] last = logits(new long[][] {Arrays.copyOf(seq, t)}, ExecutionListener.NONE)[0][t - 1];
            seq[t] = temperature <= 0 ? argmax(last) : sample(last, temperature, rnd);
        }
        return seq;
    }

    static int argmax(float[] x) {
        int best = 0;
        for (int i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
        return best;
    }

    static int sample(float[] logits, double temperature, SplittableRandom rnd) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : logits) max = Math.max(max, v);
        double[] p = new double[logits.length];
        double sum = 0;
        for (int i = 0; i < p.length; i++) {
            p[i] = Math.exp((logits[i] - max) / temperature);
            sum += p[i];
        }
        double u = rnd.nextDouble() * sum;
        for (int i = 0; i < p.length; i++) {
            u -= p[i];
            if (u <= 0) return i;
        }
        return p.length - 1;
    }

    @Override
    public void close() {
        session.close();
    }
}
