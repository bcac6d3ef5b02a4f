package dev.tamp.runtime.decode;

import static org.junit.jupiter.api.Assertions.*;

import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.encoding.IntGroupedWeight;
import dev.tamp.core.ir.Model;
import dev.tamp.core.ir.ModelFormat;
import dev.tamp.core.ir.Node;
import dev.tamp.core.progress.Progress;
import dev.tamp.core.tensor.DType;
import dev.tamp.core.tensor.Half;
import dev.tamp.core.tensor.Tensor;
import dev.tamp.formats.ModelLoader;
import dev.tamp.formats.TpkModelWriter;
import dev.tamp.formats.codec.IntGroupCodec;
import dev.tamp.runtime.RuntimeTestModels;
import dev.tamp.runtime.arch.ArchitectureBuilders;
import dev.tamp.runtime.exec.ExecutionListener;
import dev.tamp.runtime.exec.JavaBackend;
import dev.tamp.runtime.kernels.Parallel;
import dev.tamp.runtime.pipeline.Generator;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The KV-cache decoder against the graph executor on the whole sequence (the reference: the graph is what
 * evaluation runs): the logits of every position, reached by a prefill and then one step per token, agree with
 * the full-sequence logits up to float summation order — on stories260K (a trained llama2.c model: interleaved
 * RoPE, MHA, tied head) and on a generated Llama with the other variants (GQA, q/k/v biases, HF-halves RoPE,
 * untied head), dense and int4-grouped, whose linears must run encoded.
 */
class LlamaDecoderTest {
    static final double REL_TOL = 1e-4;
    /** With int8 activations: a few flipped activation roundings between two float orders (see the W4 test). */
    static final double INT8_REL_TOL = 0.05;

    /** max |Δlogit| over positions, and the same relative to each position's largest |logit|. */
    record Agreement(double maxAbs, double maxRel) {}

    /** Decoder logits after prefill(tokens[0..split)) and steps over the rest, against graph logits per position. */
    static Agreement agreement(Model model, long[] tokens, int split) {
        float[][] want;
        try (Generator g = new Generator(model, new JavaBackend())) {
            want = g.logits(new long[][] {tokens}, ExecutionListener.NONE)[0];
        }
        LlamaDecoder d = new LlamaDecoder(model, Parallel.shared());
        double maxAbs = 0, maxRel = 0;
        for (int t = split - 1; t < tokens.length; t++) {
            float[] got = t == split - 1 ? d.prefill(java.util.Arrays.copyOf(tokens, split)) : d.step(tokens[t]);
            assertEquals(t + 1, d.position());
            double diff = 0, scale = 0;
            for (int v = 0; v < got.length; v++) {
                diff = Math.max(diff, Math.abs(got[v] - want[t][v]));
                scale = Math.max(scale, Math.abs(want[t][v]));
            }
            maxAbs = Math.max(maxAbs, diff);
            maxRel = Math.max(maxRel, diff / scale);
        }
        return new Agreement(maxAbs, maxRel);
    }

    @Test
    void stories260kLogitsOfEveryPositionMatchTheGraph() {
        Model model = ArchitectureBuilders.ensureGraph(RuntimeTestModels.stories());
        assertTrue(LlamaDecoder.supports(model));
        long[] tokens = {1, 403, 407, 261, 378, 395, 416, 280, 292, 285, 431, 268, 300, 310, 290, 412, 277, 350, 263, 401};
        for (int split : new int[] {1, 7, tokens.length}) {
            Agreement a = agreement(model, tokens, split);
            System.err.printf("stories260K prefill %d + steps: max |Δlogit| %.3g, relative %.3g%n", split, a.maxAbs, a.maxRel);
            assertTrue(a.maxRel < REL_TOL, "relative |Δlogit| " + a.maxRel);
        }
    }

    @Test
    void stories260kGreedyGenerationIsTheGraphsGreedyGeneration() {
        Model model = ArchitectureBuilders.ensureGraph(RuntimeTestModels.stories());
        long[] prompt = {1, 403, 407};
        int n = 40;
        long[] kv, graph;
        try (Generator g = new Generator(model, new JavaBackend())) {
            assertTrue(g.incremental());
            kv = g.generate(prompt, n, 0, 0);
            Generator.Timings t = g.lastTimings();
            assertEquals(prompt.length, t.promptTokens());
            assertEquals(n - 1, t.steps(), "the first new token comes from the prompt's pass, each further one from a step");
            assertTrue(t.incremental() && t.promptNanos() > 0 && t.stepNanos() > 0, t.describe());
        }
        String old = System.setProperty("tamp.noKvCache", "true");
        try (Generator g = new Generator(model, new JavaBackend())) {
            assertFalse(g.incremental());
            graph = g.generate(prompt, n, 0, 0);
            assertFalse(g.lastTimings().incremental());
            assertEquals(n - 1, g.lastTimings().steps());
        } finally {
            if (old == null) System.clearProperty("tamp.noKvCache"); else System.setProperty("tamp.noKvCache", old);
        }
        // identical tokens is the property as long as no step is a near tie; report the smallest top-2 margin so a
        // failure here can be told apart from a float-order tie
        float[][] logits;
        try (Generator g = new Generator(model, new JavaBackend())) {
            logits = g.logits(new long[][] {java.util.Arrays.copyOf(graph, graph.length - 1)}, ExecutionListener.NONE)[0];
        }
        double margin = Double.POSITIVE_INFINITY;
        for (int t = prompt.length - 1; t < logits.length; t++) {
            float best = Float.NEGATIVE_INFINITY, second = Float.NEGATIVE_INFINITY;
            for (float v : logits[t]) {
                if (v > best) { second = best; best = v; } else if (v > second) second = v;
            }
            margin = Math.min(margin, best - second);
        }
        System.err.printf("stories260K greedy %d tokens, smallest top-2 margin %.3g: %s%n", n, margin, java.util.Arrays.toString(kv));
        assertTrue(margin > 1e-3, "a near tie makes token identity a float-order coin toss; choose another prompt (margin " + margin + ")");
        assertArrayEquals(graph, kv);
    }

    @Test
    void generatedGqaLlamaWithBiasesAgreesDenseAndInt4() {
        Model dense = ArchitectureBuilders.ensureGraph(generated(false, false));
        Model w4 = ArchitectureBuilders.ensureGraph(generated(true, false));
        Model w4Tied = ArchitectureBuilders.ensureGraph(generated(true, true));
        assertInstanceOf(IntGroupedWeight.class, w4.weights().get("model.layers.0.self_attn.q_proj.weight"));
        assertEquals(DType.BF16, ((DenseWeight) w4.weights().get("model.embed_tokens.weight")).tensor().dtype());
        assertInstanceOf(IntGroupedWeight.class, w4Tied.weights().get("model.embed_tokens.weight"));
        long[] tokens = new SplittableRandom(3).longs(24, 0, VOCAB).toArray();
        for (Model m : List.of(dense, w4, w4Tied)) {
            assertTrue(LlamaDecoder.supports(m));
            // W4 twice: with float activations (exact weights, so only float order differs: the tight bound) and with the
            // default int8 ones, where the graph's attention and the cache's differ by ~1e-6 and that can flip one
            // activation code's rounding (x/d at a half): a logit then moves by d·|w|, about 1 % here
            for (String acts : m == dense ? new String[] {"auto"} : new String[] {"float", "auto"}) {
                String old = System.getProperty("tamp.activations");
                System.setProperty("tamp.activations", acts);
                try {
                    for (int split : new int[] {1, 9}) {
                        Agreement a = agreement(m, tokens, split);
                        System.err.printf("generated %s (%s activations) prefill %d + steps: max |Δlogit| %.3g, relative %.3g%n",
                                m.source(), acts, split, a.maxAbs, a.maxRel);
                        double tol = acts.equals("float") || m == dense ? REL_TOL : INT8_REL_TOL;
                        assertTrue(a.maxRel < tol, m.source() + " (" + acts + " activations): relative |Δlogit| " + a.maxRel);
                    }
                } finally {
                    if (old == null) System.clearProperty("tamp.activations"); else System.setProperty("tamp.activations", old);
                }
            }
        }
        // the int4 model computes its own function (encoded weights), not the dense one's
        LlamaDecoder d = new LlamaDecoder(dense, Parallel.shared()), q = new LlamaDecoder(w4, Parallel.shared());
        float[] a = d.prefill(tokens), b = q.prefill(tokens);
        double diff = 0;
        for (int v = 0; v < a.length; v++) diff = Math.max(diff, Math.abs(a[v] - b[v]));
        assertTrue(diff > 1e-3, "int4 logits equal the dense ones: " + diff);
    }

    /** Qwen3's per-head q/k RMSNorm and Llama 3's RoPE scaling: the decoder applies both as the graph does. */
    @Test
    void qwen3HeadNormsAndLlama3RopeScalingDecodeLikeTheGraph() {
        Model base = generated(false, false);
        Map<String, EncodedTensor> w = new LinkedHashMap<>(base.weights());
        SplittableRandom r = new SplittableRandom(17);
        for (int l = 0; l < LAYERS; l++) {
            w.put("model.layers." + l + ".self_attn.q_norm.weight", new DenseWeight(around1(r, HD)));
            w.put("model.layers." + l + ".self_attn.k_norm.weight", new DenseWeight(around1(r, HD)));
        }
        Map<String, Object> cfg = new LinkedHashMap<>(base.config());
        cfg.put("rope_scaling.rope_type", "llama3");
        cfg.put("rope_scaling.factor", 8.0);
        cfg.put("rope_scaling.low_freq_factor", 1.0);
        cfg.put("rope_scaling.high_freq_factor", 4.0);
        cfg.put("rope_scaling.original_max_position_embeddings", 32L);
        Model qwen3 = ArchitectureBuilders.ensureGraph(new Model(ModelFormat.SAFETENSORS, "qwen3-like", "qwen3", null, w, cfg, Map.of(), null, List.of()));
        assertTrue(LlamaDecoder.supports(qwen3));
        long[] tokens = new SplittableRandom(5).longs(24, 0, VOCAB).toArray();
        Agreement a = agreement(qwen3, tokens, 9);
        assertTrue(a.maxRel < REL_TOL, "relative |Δlogit| " + a.maxRel);
        float[] with = new LlamaDecoder(qwen3, Parallel.shared()).prefill(tokens);
        float[] without = new LlamaDecoder(ArchitectureBuilders.ensureGraph(base), Parallel.shared()).prefill(tokens);
        double diff = 0;
        for (int v = 0; v < with.length; v++) diff = Math.max(diff, Math.abs(with[v] - without[v]));
        assertTrue(diff > 1e-2, "head norms and RoPE scaling change the logits: " + diff);
    }

    @Test
    void packsReadBackDecodeIncrementallyRewrittenGraphsDoNot(@TempDir Path dir) {
        Model w4 = ArchitectureBuilders.ensureGraph(generated(true, false));
        Path tpk = dir.resolve("w4.tpk");
        TpkModelWriter.write(w4, tpk);
        Model read = ModelLoader.load(tpk, Progress.NONE);
        assertTrue(LlamaDecoder.supports(read), "a .tpk of a built Llama graph");
        long[] tokens = new SplittableRandom(5).longs(12, 0, VOCAB).toArray();
        assertTrue(agreement(read, tokens, 4).maxRel < REL_TOL);

        // a method that inserts a node (SmoothQuant/AWQ's explicit input-scale Mul before o_proj) changes the
        // function the graph computes: graph path
        List<Node> nodes = new ArrayList<>();
        Map<String, EncodedTensor> weights = new LinkedHashMap<>(w4.weights());
        for (Node n : w4.graph().nodes()) {
            if (n.name().equals("model.layers.0.self_attn.o_proj")) {
                String x = n.inputs().get(0);
                weights.put(x + "/input_scale", new DenseWeight(Tensor.ofFloats(new float[HEADS * HD], HEADS * HD)));
                nodes.add(new Node(x + "/input_scale_mul", "Mul", "", List.of(x, x + "/input_scale"), List.of(x + "/scaled"), Map.of()));
                List<String> in = new ArrayList<>(n.inputs());
                in.set(0, x + "/scaled");
                n = new Node(n.name(), n.opType(), n.domain(), in, n.outputs(), n.attributes());
            }
            nodes.add(n);
        }
        Model rewritten = w4.withGraph(w4.graph().withNodes(nodes)).withWeights(weights);
        assertFalse(LlamaDecoder.supports(rewritten));
        // so is one whose config no longer says what the graph's constants were built from
        Map<String, Object> cfg = new LinkedHashMap<>(w4.config());
        cfg.put("rms_norm_eps", 1e-5);
        assertFalse(LlamaDecoder.supports(w4.withConfig(cfg)));
        Model bert = new Model(ModelFormat.ONNX, "bert", "bert", w4.graph(), w4.weights(), w4.config(), w4.opsets(), null, List.of());
        assertFalse(LlamaDecoder.supports(bert));
        try (Generator g = new Generator(rewritten, new JavaBackend())) {
            assertFalse(g.incremental());
        }
    }

    @Test
    void cacheGrowsBeyondItsFirstSizeAndKeepsThePast() {
        Model model = ArchitectureBuilders.ensureGraph(generated(false, false));
        long[] tokens = new SplittableRandom(9).longs(40, 0, VOCAB).toArray(); // past the initial 16 positions
        assertTrue(agreement(model, tokens, 1).maxRel < REL_TOL);
    }

    // A small Llama: GQA 4 query heads over 2 kv heads, head dim 16, q/k/v biases, HF-halves RoPE (θ 500000).
    static final int DIM = 64, HEADS = 4, KV_HEADS = 2, HD = 16, LAYERS = 2, HIDDEN = 96, VOCAB = 101;

    /** Seeded random weights; int4 g32 linears (and head) when asked, with a BF16 or (tied) int4 embedding. */
    static Model generated(boolean int4, boolean tied) {
        SplittableRandom r = new SplittableRandom(17);
        Map<String, EncodedTensor> w = new LinkedHashMap<>();
        Tensor emb = random(r, 0.5, VOCAB, DIM);
        if (!int4) w.put("model.embed_tokens.weight", new DenseWeight(emb));
        else if (tied) w.put("model.embed_tokens.weight", IntGroupCodec.quantize(emb, 1, 4, true, 32));
        else w.put("model.embed_tokens.weight", new DenseWeight(bf16(emb)));
        for (int l = 0; l < LAYERS; l++) {
            String p = "model.layers." + l + ".";
            w.put(p + "input_layernorm.weight", new DenseWeight(around1(r, DIM)));
            linear(w, r, p + "self_attn.q_proj", HEADS * HD, DIM, true, int4);
            linear(w, r, p + "self_attn.k_proj", KV_HEADS * HD, DIM, true, int4);
            linear(w, r, p + "self_attn.v_proj", KV_HEADS * HD, DIM, true, int4);
            linear(w, r, p + "self_attn.o_proj", DIM, HEADS * HD, false, int4);
            w.put(p + "post_attention_layernorm.weight", new DenseWeight(around1(r, DIM)));
            linear(w, r, p + "mlp.gate_proj", HIDDEN, DIM, false, int4);
            linear(w, r, p + "mlp.up_proj", HIDDEN, DIM, false, int4);
            linear(w, r, p + "mlp.down_proj", DIM, HIDDEN, false, int4);
        }
        w.put("model.norm.weight", new DenseWeight(around1(r, DIM)));
        if (!tied) linear(w, r, "lm_head", VOCAB, DIM, false, int4);
        Map<String, Object> cfg = new LinkedHashMap<>();
        cfg.put("hidden_size", DIM);
        cfg.put("num_attention_heads", HEADS);
        cfg.put("num_key_value_heads", KV_HEADS);
        cfg.put("num_hidden_layers", LAYERS);
        cfg.put("intermediate_size", HIDDEN);
        cfg.put("vocab_size", VOCAB);
        cfg.put("max_position_embeddings", 128);
        cfg.put("rms_norm_eps", 1e-6);
        cfg.put("rope_theta", 500000.0);
        String name = (int4 ? "w4" : "f32") + (tied ? "-tied" : "");
        return new Model(ModelFormat.SAFETENSORS, name, "llama", null, w, cfg, Map.of(), null, List.of());
    }

    private static void linear(Map<String, EncodedTensor> w, SplittableRandom r, String name, int out, int in, boolean bias, boolean int4) {
        Tensor t = random(r, 1 / Math.sqrt(in), out, in);
        w.put(name + ".weight", int4 ? IntGroupCodec.quantize(t, 1, 4, true, 32) : new DenseWeight(t));
        if (bias) w.put(name + ".bias", new DenseWeight(random(r, 0.1, out)));
    }

    private static Tensor random(SplittableRandom r, double std, long... shape) {
        float[] v = new float[(int) Tensor.numel(shape)];
        for (int i = 0; i < v.length; i++) v[i] = (float) (std * gaussian(r));
        return Tensor.ofFloats(v, shape);
    }

    private static Tensor around1(SplittableRandom r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (1 + 0.1 * gaussian(r));
        return Tensor.ofFloats(v, n);
    }

    private static double gaussian(SplittableRandom r) {
        return Math.sqrt(-2 * Math.log(1 - r.nextDouble())) * Math.cos(2 * Math.PI * r.nextDouble());
    }

    private static Tensor bf16(Tensor t) {
        float[] v = t.toFloatArray();
        ByteBuffer b = ByteBuffer.allocate(v.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) b.putShort(Half.floatToBf16(f));
        return Tensor.of(DType.BF16, t.shape(), b.flip());
    }
}
