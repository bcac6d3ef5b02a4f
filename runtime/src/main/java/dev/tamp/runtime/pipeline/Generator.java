package dev.tamp.runtime.pipeline;

import dev.tamp.core.ir.Model;
import dev.tamp.runtime.decode.LlamaDecoder;
import dev.tamp.runtime.exec.Backend;
import dev.tamp.runtime.exec.ExecutionListener;
import dev.tamp.runtime.exec.JavaBackend;
import dev.tamp.runtime.exec.Session;
import dev.tamp.runtime.exec.Value;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Decoder inference on a logits graph (input_ids [B, S] → logits [B, S, V]): next-token logits for whole
 * sequences, and greedy or seeded sampling.
 *
 * <p>{@link #logits} always executes the graph on the whole sequence (what evaluation measures). {@link #generate}
 * decodes incrementally with a KV cache ({@link LlamaDecoder}) when the backend is the Java one and the graph is
 * the Llama-family graph tamp builds from the weights — same math, one token per step instead of the whole
 * prefix; anything else (other families, rewritten graphs, the torch backend) re-runs the graph on the prefix
 * each step, which is exact but quadratic. {@code -Dtamp.noKvCache=true} forces the graph path (comparisons).
 *
 * <p>The graph session and the decoder are each prepared on first use, so a generator used only to generate
 * (or only to score) holds one set of prepared weights.
 */
public final class Generator implements AutoCloseable {
    private final Model model;
    private final Backend backend;
    private Session session;
    private LlamaDecoder decoder;
    private Boolean incremental;

    public Generator(Model model, Backend backend) {
        this.model = model;
        this.backend = backend;
    }

    /** Logits [B][S][V] for equal-length sequences. */
    public float[][][] logits(long[][] tokens, ExecutionListener listener) {
        int b = tokens.length, s = tokens[0].length;
        long[] ids = new long[b * s];
        for (int i = 0; i < b; i++) System.arraycopy(tokens[i], 0, ids, i * s, s);
        Value out = session().run(Map.of("input_ids", Value.longs(ids, b, s)), List.of("logits"), listener).get("logits");
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
        if (newTokens <= 0) return seq;
        SplittableRandom rnd = new SplittableRandom(seed);
        LlamaDecoder d = decoder();
        if (d != null) {
            d.reserve(seq.length); // the cache holds exactly the context this call uses
            float[] last = d.prefill(prompt);
            for (int t = prompt.length; t < seq.length; t++) {
                seq[t] = temperature <= 0 ? argmax(last) : sample(last, temperature, rnd);
                if (t + 1 < seq.length) last = d.step(seq[t]);
            }
            return seq;
        }
        for (int t = prompt.length; t < seq.length; t++) {
            float[] last = logits(new long[][] {Arrays.copyOf(seq, t)}, ExecutionListener.NONE)[0][t - 1];
            seq[t] = temperature <= 0 ? argmax(last) : sample(last, temperature, rnd);
        }
        return seq;
    }

    /** Whether {@link #generate} decodes with the KV cache for this model and backend. */
    public boolean incremental() {
        if (incremental == null) {
            incremental = backend instanceof JavaBackend && !Boolean.getBoolean("tamp.noKvCache") && LlamaDecoder.supports(model);
        }
        return incremental;
    }

    private LlamaDecoder decoder() {
        if (decoder == null && incremental()) decoder = new LlamaDecoder(model, ((JavaBackend) backend).parallel());
        return decoder;
    }

    private Session session() {
        if (session == null) session = backend.open(model);
        return session;
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
        if (session != null) session.close();
    }
}
