package dev.tamp.runtime.arch;

import static org.junit.jupiter.api.Assertions.*;

import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.ir.Model;
import dev.tamp.runtime.RuntimeTestModels;
import dev.tamp.runtime.exec.ExecutionListener;
import dev.tamp.runtime.exec.JavaBackend;
import dev.tamp.runtime.pipeline.Generator;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * The Llama graph built from stories260K (a real trained llama2.c model) against a plain-loop reference
 * forward pass written here the way llama2.c's run.c computes it: interleaved RoPE, GQA, SwiGLU, RMSNorm.
 */
class LlamaGraphTest {
    /** Reference decoder: logits for every position of one sequence (full causal attention, no cache). */
    static final class Reference {
        final Model m;
        final int dim, hidden, layers, heads, kvHeads, hs, vocab;

        Reference(Model m) {
            this.m = m;
            dim = ((Number) m.config().get("hidden_size")).intValue();
            hidden = ((Number) m.config().get("intermediate_size")).intValue();
            layers = ((Number) m.config().get("num_hidden_layers")).intValue();
            heads = ((Number) m.config().get("num_attention_heads")).intValue();
            kvHeads = ((Number) m.config().get("num_key_value_heads")).intValue();
            vocab = ((Number) m.config().get("vocab_size")).intValue();
            hs = dim / heads;
        }

        float[] w(String name) {
            return ((DenseWeight) m.weights().get(name)).tensor().toFloatArray();
        }

        static float[] matvec(float[] w, float[] x, int out, int in) {
            float[] y = new float[out];
            for (int i = 0; i < out; i++) {
                double s = 0;
                for (int j = 0; j < in; j++) s += (double) w[i * in + j] * x[j];
                y[i] = (float) s;
            }
            return y;
        }

        static float[] rms(float[] x, float[] g) {
            double ss = 0;
            for (float v : x) ss += v * v;
            double inv = 1 / Math.sqrt(ss / x.length + 1e-5);
            float[] o = new float[x.length];
            for (int i = 0; i < x.length; i++) o[i] = (float) (g[i] * (inv * x[i]));
            return o;
        }

        void rope(float[] v, int pos, int n) {
            for (int i = 0; i < n; i += 2) {
                int hd = i % hs;
                double freq = 1.0 / Math.pow(10000.0, hd / (double) hs);
                double a = pos * freq, c = Math.cos(a), s = Math.sin(a);
                float v0 = v[i], v1 = v[i + 1];
                v[i] = (float) (v0 * c - v1 * s);
                v[i + 1] = (float) (v0 * s + v1 * c);
            }
        }

        float[][] forward(long[] tokens) {
            int n = tokens.length, kvDim = kvHeads * hs;
            float[] emb = w("model.embed_tokens.weight");
            float[][] x = new float[n][];
            for (int t = 0; t < n; t++) x[t] = Arrays.copyOfRange(emb, (int) tokens[t] * dim, (int) (tokens[t] + 1) * dim);
            for (int l = 0; l < layers; l++) {
                String p = "model.layers." + l + ".";
                float[] wq = w(p + "self_attn.q_proj.weight"), wk = w(p + "self_attn.k_proj.weight"), wv = w(p + "self_attn.v_proj.weight");
                float[] wo = w(p + "self_attn.o_proj.weight");
                float[][] q = new float[n][], k = new float[n][], v = new float[n][];
                for (int t = 0; t < n; t++) {
                    float[] xn = rms(x[t], w(p + "input_layernorm.weight"));
                    q[t] = matvec(wq, xn, dim, dim);
                    k[t] = matvec(wk, xn, kvDim, dim);
                    v[t] = matvec(wv, xn, kvDim, dim);
                    rope(q[t], t, dim);
                    rope(k[t], t, kvDim);
                }
                for (int t = 0; t < n; t++) {
                    float[] att = new float[dim];
                    for (int h = 0; h < heads; h++) {
                        int kvh = h / (heads / kvHeads);
                        double[] sc = new double[t + 1];
                        double max = Double.NEGATIVE_INFINITY;
                        for (int u = 0; u <= t; u++) {
                            double s = 0;
                            for (int i = 0; i < hs; i++) s += q[t][h * hs + i] * k[u][kvh * hs + i];
                            sc[u] = s / Math.sqrt(hs);
                            max = Math.max(max, sc[u]);
                        }
                        double sum = 0;
                        for (int u = 0; u <= t; u++) { sc[u] = Math.exp(sc[u] - max); sum += sc[u]; }
                        for (int i = 0; i < hs; i++) {
                            double a = 0;
                            for (int u = 0; u <= t; u++) a += sc[u] / sum * v[u][kvh * hs + i];
                            att[h * hs + i] = (float) a;
                        }
                    }
                    float[] o = matvec(wo, att, dim, dim);
                    for (int i = 0; i < dim; i++) x[t][i] += o[i];
                    float[] xn = rms(x[t], w(p + "post_attention_layernorm.weight"));
                    float[] g = matvec(w(p + "mlp.gate_proj.weight"), xn, hidden, dim);
                    float[] u = matvec(w(p + "mlp.up_proj.weight"), xn, hidden, dim);
                    for (int i = 0; i < hidden; i++) g[i] = (float) (g[i] / (1 + Math.exp(-g[i])) * u[i]);
                    float[] d = matvec(w(p + "mlp.down_proj.weight"), g, dim, hidden);
                    for (int i = 0; i < dim; i++) x[t][i] += d[i];
                }
            }
            float[] cls = m.weights().containsKey("lm_head.weight") ? w("lm_head.weight") : emb;
            float[][] logits = new float[n][];
            for (int t = 0; t < n; t++) logits[t] = matvec(cls, rms(x[t], w("model.norm.weight")), vocab, dim);
            return logits;
        }
    }

    @Test
    void stories260kLogitsMatchReferenceAndGreedyDecodingAgrees() {
        Model raw = RuntimeTestModels.stories();
        Model model = ArchitectureBuilders.ensureGraph(raw);
        Reference ref = new Reference(raw);
        long[] tokens = {1, 403, 407, 261, 378, 395, 416, 280, 292, 285, 431, 268};
        float[][] want = ref.forward(tokens);
        try (Generator g = new Generator(model, new JavaBackend())) {
            float[][][] got = g.logits(new long[][] {tokens, tokens}, ExecutionListener.NONE);
            double maxDiff = 0, maxAbs = 0;
            for (int b = 0; b < 2; b++) {
                for (int t = 0; t < tokens.length; t++) {
                    for (int v = 0; v < want[t].length; v++) {
                        maxDiff = Math.max(maxDiff, Math.abs(got[b][t][v] - want[t][v]));
                        maxAbs = Math.max(maxAbs, Math.abs(want[t][v]));
                    }
                }
            }
            System.err.printf("stories260K logits: max |Δ| %.3g (max |logit| %.3g)%n", maxDiff, maxAbs);
            assertTrue(maxDiff < 1e-3, "max |Δ| " + maxDiff);
            // greedy continuation from BOS agrees token for token with the reference's argmax
            long[] seq = g.generate(new long[] {1}, 24, 0, 0);
            float[][] refLogits = ref.forward(Arrays.copyOf(seq, seq.length - 1));
            for (int t = 1; t < seq.length; t++) {
                int best = 0;
                for (int v = 1; v < refLogits[t - 1].length; v++) if (refLogits[t - 1][v] > refLogits[t - 1][best]) best = v;
                assertEquals(best, seq[t], "token " + t + " of " + Arrays.toString(seq));
            }
            long distinct = Arrays.stream(seq).distinct().count();
            assertTrue(distinct > 5, "a trained model does not loop on one token: " + Arrays.toString(seq));
            System.err.println("greedy: " + Arrays.toString(seq));
        }
    }
}
