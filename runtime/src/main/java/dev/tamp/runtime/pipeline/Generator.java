package dev.tamp.runtime.pipeline;

import dev.tamp.core.ir.Model;
import dev.tamp.runtime.decode.LlamaDecoder;
import dev.tamp.runtime.exec.Backend;
import dev.tamp.runtime.exec.ExecutionListener;
import dev.tamp.runtime.exec.JavaBackend;
import dev.tamp.runtime.exec.Session;
import dev.tamp.runtime.value.Value;
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
    private Timings timings;

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
        timings = null;
        if (newTokens <= 0) return seq;
        SplittableRandom rnd = new SplittableRandom(seed);
        LlamaDecoder d = decoder();
        long start = System.nanoTime(), firstLogits = 0;
        if (d != null) {
            d.reserve(seq.length); // the cache holds exactly the context this call uses
            float[] last = d.prefill(prompt);
            firstLogits = System.nanoTime();
            for (int t = prompt.length; t < seq.length; t++) {
                seq[t] = temperature <= 0 ? argmax(last) : sample(last, temperature, rnd);
                if (t + 1 < seq.length) last = d.step(seq[t]);
            }
        } else {
            for (int t = prompt.length; t < seq.length; t++) {
                float[] last = logits(new long[][] {Arrays.copyOf(seq, t)}, ExecutionListener.NONE)[0][t - 1];
                if (t == prompt.length) firstLogits = System.nanoTime();
                seq[t] = temperature <= 0 ? argmax(last) : sample(last, temperature, rnd);
            }
        }
        timings = new Timings(prompt.length, firstLogits - start, newTokens - 1, System.nanoTime() - firstLogits, d != null);
        return seq;
    }

    /**
     * Where the time of the last {@link #generate} went, as llama.cpp reports it: the prompt's pass (to the first
     * token's logits) and the steps after it, one per further token.
     *
     * @param steps       forward passes after the prompt's (new tokens − 1)
     * @param incremental whether the steps ran on the KV cache (else each re-ran the graph on the whole prefix)
     */
    public record Timings(int promptTokens, long promptNanos, int steps, long stepNanos, boolean incremental) {
        public double msPerStep() { return steps == 0 ? 0 : stepNanos / 1e6 / steps; }

        /** One line for stderr. */
        public String describe() {
            String p = String.format(java.util.Locale.ROOT, "prompt: %d token%s in %.1f ms", promptTokens, promptTokens == 1 ? "" : "s",
                    promptNanos / 1e6);
            if (steps == 0) return p;
            return p + String.format(java.util.Locale.ROOT, "; then %d tokens in %.2f s: %.1f ms/token (%.1f tokens/s)%s", steps,
                    stepNanos / 1e9, msPerStep(), 1000 / msPerStep(), incremental ? ", KV cache" : ", whole prefix per token");
        }
    }

    /** The timings of the last {@link #generate} call, or null before one. */
    public Timings lastTimings() {
        return timings;
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
