package dev.tamp.runtime.decode;

import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.error.BadInputException;
import dev.tamp.core.ir.Model;
import dev.tamp.runtime.arch.ArchitectureBuilders;
import dev.tamp.runtime.arch.LlamaConfig;
import dev.tamp.runtime.arch.LlamaGraphBuilder;
import dev.tamp.runtime.kernels.LinearKernel;
import dev.tamp.runtime.kernels.LinearKernels;
import dev.tamp.runtime.kernels.Parallel;
import dev.tamp.runtime.kernels.WeightDecoders;
import java.util.Arrays;

/**
 * Incremental decoding of a Llama-family decoder straight from its HF-named weights, with a per-layer K/V
 * cache: a new token costs one row through every linear and attention over the cached past, instead of the
 * graph re-running the whole prefix for each token. It computes what {@link LlamaGraphBuilder}'s graph
 * computes — the same RMSNorm (ε inside the root of the mean square), RoPE layout and θ, GQA head mapping,
 * softmax and SiLU, in float — so the two agree up to summation order.
 *
 * <p>Linears run through the kernels {@link LinearKernels#prepare} picks for the weight's encoding, as the
 * graph executor's do, so an int4 or MX pack stays encoded in memory; the embedding table is read a row per
 * token ({@link EmbeddingRows}). Only norms and biases are held as F32.
 *
 * <p>Use: {@link #prefill} a prompt, then {@link #step} one token at a time; each returns the logits that
 * predict the next token. Not thread-safe: one sequence at a time.
 */
public final class LlamaDecoder {
    /** y = x Wᵀ (+ b), W prepared once for its encoding. */
    private record Linear(LinearKernel kernel, float[] bias) {
        float[] apply(float[] x, int rows, Parallel parallel) {
            int n = kernel.outFeatures();
            float[] y = new float[rows * n];
            kernel.forward(x, rows, y, parallel);
            if (bias != null) for (int r = 0; r < rows; r++) for (int j = 0; j < n; j++) y[r * n + j] += bias[j];
            return y;
        }
    }

    /** qNorm / kNorm: Qwen3's per-head RMSNorm weights, null for families without them. */
    private record Layer(float[] attnNorm, Linear q, Linear k, Linear v, Linear o,
                         float[] mlpNorm, Linear gate, Linear up, Linear down, float[] qNorm, float[] kNorm) {}

    private final Model model;
    private final LlamaConfig c;
    private final Parallel parallel;
    private final EmbeddingRows embedding;
    private final Layer[] layers;
    private final float[] finalNorm;
    private final LinearKernel head;
    private final Rotary rotary;
    private final CachedAttention attention;
    private final KvCache cache;
    private int position;

    /** Prepares the model's kernels; the cache starts small and grows (see {@link #reserve}). */
    public LlamaDecoder(Model model, Parallel parallel) {
        this.model = model;
        this.c = LlamaConfig.of(model);
        this.parallel = parallel;
        int dim = c.dim(), q = c.heads() * c.headDim(), kv = c.kvDim();
        this.embedding = EmbeddingRows.of("model.embed_tokens.weight", require("model.embed_tokens.weight", c.vocab(), dim), dim);
        this.layers = new Layer[c.layers()];
        for (int l = 0; l < layers.length; l++) {
            String p = "model.layers." + l + ".";
            layers[l] = new Layer(vector(p + "input_layernorm.weight", dim),
                    linear(p + "self_attn.q_proj", q, dim), linear(p + "self_attn.k_proj", kv, dim),
                    linear(p + "self_attn.v_proj", kv, dim), linear(p + "self_attn.o_proj", dim, q),
                    vector(p + "post_attention_layernorm.weight", dim),
                    linear(p + "mlp.gate_proj", c.hidden(), dim), linear(p + "mlp.up_proj", c.hidden(), dim),
                    linear(p + "mlp.down_proj", dim, c.hidden()),
                    optionalVector(p + "self_attn.q_norm.weight", c.headDim()), optionalVector(p + "self_attn.k_norm.weight", c.headDim()));
        }
        this.finalNorm = vector("model.norm.weight", dim);
        // untied when the checkpoint has its own head, else the embedding table doubles as the head (tied)
        String headName = model.weights().containsKey("lm_head.weight") ? "lm_head.weight" : "model.embed_tokens.weight";
        this.head = LinearKernels.prepare(headName, require(headName, c.vocab(), dim), 1);
        this.rotary = new Rotary(c);
        this.attention = new CachedAttention(c);
        this.cache = new KvCache(c.layers(), kv, 16);
    }

    /**
     * Whether this decoder computes exactly what the model's graph does: a Llama-family model whose graph is
     * the one {@link LlamaGraphBuilder} builds from its weights (not one a method rewrote, nor an imported
     * export), so executing either gives the same logits.
     */
    public static boolean supports(Model model) {
        // Gemma's sandwich norms, soft caps and sliding windows are not in this decoder: its graph runs instead
        return ArchitectureBuilders.isLlamaFamily(model) && LlamaConfig.of(model).gemma() == null && LlamaGraphBuilder.isBuiltGraph(model);
    }

    public LlamaConfig config() {
        return c;
    }

    /** Positions consumed so far in the current sequence (the next token's position). */
    public int position() {
        return position;
    }

    /** Sizes the cache for a sequence of {@code positions} tokens up front (prompt + tokens to generate). */
    public void reserve(int positions) {
        checkLength(positions);
        cache.reserve(positions);
        rotary.ensure(positions);
    }

    /** Starts a new sequence with {@code tokens} (at least one) and returns the logits after its last token. */
    public float[] prefill(long[] tokens) {
        if (tokens.length == 0) throw new BadInputException(model.source() + ": prefill needs at least one token");
        position = 0;
        return forward(tokens);
    }

    /** Appends one token to the sequence and returns the logits for the token after it. */
    public float[] step(long token) {
        if (position == 0) throw new IllegalStateException("step before prefill");
        return forward(new long[] {token});
    }

    /** Runs {@code tokens} at positions position..position+n-1 as one batch of rows; logits of the last. */
    private float[] forward(long[] tokens) {
        int n = tokens.length, dim = c.dim(), first = position, end = first + n;
        checkLength(end);
        cache.ensure(end);
        rotary.ensure(end);
        float[] x = new float[n * dim];
        for (int t = 0; t < n; t++) {
            long id = tokens[t];
            if (id < 0 || id >= c.vocab()) throw new BadInputException(model.source() + ": token id " + id + " outside the vocabulary of " + c.vocab());
            embedding.read((int) id, x, t * dim);
        }
        float[] ctx = new float[n * c.heads() * c.headDim()];
        for (int l = 0; l < layers.length; l++) {
            Layer layer = layers[l];
            float[] xn = rmsNorm(x, n, layer.attnNorm);
            float[] q = layer.q.apply(xn, n, parallel);
            float[] k = layer.k.apply(xn, n, parallel);
            float[] v = layer.v.apply(xn, n, parallel);
            if (layer.qNorm != null) q = rmsNorm(q, n * c.heads(), layer.qNorm, c.headDim());
            if (layer.kNorm != null) k = rmsNorm(k, n * c.kvHeads(), layer.kNorm, c.headDim());
            for (int t = 0; t < n; t++) {
                rotary.apply(q, t * c.heads() * c.headDim(), c.heads(), first + t);
                rotary.apply(k, t * c.kvDim(), c.kvHeads(), first + t);
            }
            cache.put(l, first, n, k, v);
            attention.attend(q, n, first, cache.keys(l), cache.values(l), ctx, parallel);
            add(x, layer.o.apply(ctx, n, parallel));
            float[] y = rmsNorm(x, n, layer.mlpNorm);
            float[] gate = layer.gate.apply(y, n, parallel);
            float[] up = layer.up.apply(y, n, parallel);
            for (int i = 0; i < gate.length; i++) {
                float g = gate[i];
                float sig = (float) (1.0 / (1.0 + Math.exp(-g))); // the graph's Sigmoid: double, then float
                gate[i] = g * sig * up[i];
            }
            add(x, layer.down.apply(gate, n, parallel));
        }
        position = end;
        // only the last row's logits are asked for: the head (vocab × dim, the largest matrix) runs once
        float[] last = rmsNorm(Arrays.copyOfRange(x, (n - 1) * dim, n * dim), 1, finalNorm);
        float[] logits = new float[c.vocab()];
        head.forward(last, 1, logits, parallel);
        return logits;
    }

    /** x / √(mean(x²) + ε) · γ per row: the graph's ReduceMean (double accumulation), Sqrt, Div, Mul. */
    private float[] rmsNorm(float[] x, int rows, float[] gamma) {
        return rmsNorm(x, rows, gamma, c.dim(), c.rmsEps());
    }

    private float[] rmsNorm(float[] x, int rows, float[] gamma, int width) {
        return rmsNorm(x, rows, gamma, width, c.rmsEps());
    }

    private static float[] rmsNorm(float[] x, int rows, float[] gamma, int d, float eps) {
        float[] out = new float[rows * d];
        for (int r = 0; r < rows; r++) {
            int o = r * d;
            double ss = 0;
            for (int i = 0; i < d; i++) ss += x[o + i] * x[o + i];
            float rms = (float) Math.sqrt((float) (ss / d) + eps);
            for (int i = 0; i < d; i++) out[o + i] = x[o + i] / rms * gamma[i];
        }
        return out;
    }

    private static void add(float[] x, float[] y) {
        for (int i = 0; i < x.length; i++) x[i] += y[i];
    }

    private void checkLength(int positions) {
        if (positions > c.maxPositions()) {
            throw new BadInputException(model.source() + ": sequence of " + positions + " tokens exceeds max_position_embeddings "
                    + c.maxPositions());
        }
    }

    private Linear linear(String name, int out, int in) {
        String w = name + ".weight";
        LinearKernel k = LinearKernels.prepare(w, require(w, out, in), 1);
        String b = name + ".bias";
        return new Linear(k, model.weights().containsKey(b) ? vector(b, out) : null);
    }

    private float[] optionalVector(String name, int n) {
        return model.weights().containsKey(name) ? vector(name, n) : null;
    }

    private float[] vector(String name, int n) {
        EncodedTensor w = require(name, n);
        return w instanceof DenseWeight d ? d.tensor().toFloatArray() : WeightDecoders.decodeAsStored(name, w);
    }

    /** The weight, checked to have the shape the architecture implies (as the graph builder checks). */
    private EncodedTensor require(String name, long... shape) {
        EncodedTensor w = model.weights().get(name);
        if (w == null) throw new BadInputException(model.source() + ": missing tensor " + name);
        if (!Arrays.equals(w.shape(), shape)) {
            throw new BadInputException(model.source() + ": tensor " + name + " has shape " + Arrays.toString(w.shape())
                    + ", expected " + Arrays.toString(shape));
        }
        return w;
    }
}
