package dev.tamp.runtime.arch;

import static dev.tamp.core.ir.GraphBuilder.attrs;

import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.error.BadInputException;
import dev.tamp.core.ir.Graph;
import dev.tamp.core.ir.GraphBuilder;
import dev.tamp.core.ir.Model;
import dev.tamp.core.ir.Node;
import dev.tamp.core.ir.ValueInfo;
import dev.tamp.core.ir.ValueInfo.Dim;
import dev.tamp.core.tensor.DType;
import dev.tamp.core.tensor.Tensor;
import java.util.Arrays;
import java.util.Map;

/**
 * Builds the forward graph of a Llama-family decoder (Llama, Mistral, Qwen2, SmolLM: RMSNorm, RoPE, GQA,
 * SwiGLU, tied or untied head, optional q/k/v biases) from HF-named weights, in standard ONNX ops
 * (opset 17) so the same graph runs in tamp's executor and, exported, in ONNX Runtime.
 *
 * <p>Input {@code input_ids} [batch, seq] (int64, positions 0..seq-1, no padding); output {@code logits}
 * [batch, seq, vocab]. Linears are {@code Gemm(x[T][in], W[out][in], transB=1)} on the flattened tokens, so
 * weights keep their checkpoint layout (kAxis 1) and are never copied. Each linear's node is named after its
 * weight without ".weight" (e.g. {@code model.layers.0.self_attn.q_proj}) — what calibration observers and
 * reports key on.
 *
 * <p>RoPE comes in two layouts: HF checkpoints rotate halves (dimension i pairs with i + d/2); llama2.c and
 * GGUF keep Meta's interleaved pairs (2i, 2i+1). {@code rope_interleaved} in the config selects the latter.
 */
public final class LlamaGraphBuilder {
    private final Model model;
    private final LlamaConfig cfg;
    private final GraphBuilder g = new GraphBuilder("llama");
    private final int dim, heads, kvHeads, headDim, layers, vocab, hidden, maxPos;
    private final float eps;
    private final boolean interleaved;
    private String batchSeq; // Shape(input_ids) = [B, S]
    private String cos, sin;
    private String cosLocal, sinLocal; // Gemma 3's sliding layers: their own RoPE base
    private final GemmaStyle gemma;

    private LlamaGraphBuilder(Model model) {
        this.model = model;
        LlamaConfig c = cfg = LlamaConfig.of(model);
        dim = c.dim();
        heads = c.heads();
        kvHeads = c.kvHeads();
        headDim = c.headDim();
        layers = c.layers();
        vocab = c.vocab();
        hidden = c.hidden();
        maxPos = c.maxPositions();
        eps = c.rmsEps();
        interleaved = c.ropeInterleaved();
        gemma = c.gemma();
    }

    /** The model with its graph built (weights unchanged). */
    public static Model build(Model model) {
        return new LlamaGraphBuilder(model).build();
    }

    /**
     * Whether the model's graph is exactly what this builder makes from the model's own weights and config:
     * same nodes in the same order (names, ops, wiring, attributes), same graph inputs and outputs, same
     * constants. That is the condition under which something else computing the same math from the same weights
     * (the KV-cache decoder) may stand in for executing the graph. A graph a method rewrote (an explicit
     * input-scale Mul from SmoothQuant or AWQ), an imported ONNX export, or a config that no longer fits the
     * weights all answer false.
     */
    public static boolean isBuiltGraph(Model model) {
        if (model.graph() == null) return false;
        LlamaGraphBuilder b;
        Model built;
        try {
            b = new LlamaGraphBuilder(model);
            built = b.build();
        } catch (BadInputException e) {
            return false;
        }
        Graph have = model.graph(), want = built.graph();
        if (!names(have.inputs()).equals(names(want.inputs())) || !names(have.outputs()).equals(names(want.outputs()))) return false;
        if (have.nodes().size() != want.nodes().size()) return false;
        for (int i = 0; i < want.nodes().size(); i++) {
            Node h = have.nodes().get(i), w = want.nodes().get(i);
            boolean same = w.name().equals(h.name()) && w.opType().equals(h.opType())
                    && (h.domain() == null || h.domain().isEmpty() || h.domain().equals("ai.onnx"))
                    && w.inputs().equals(h.inputs()) && w.outputs().equals(h.outputs()) && w.attributes().equals(h.attributes());
            if (!same) return false;
        }
        // the builder's constants (ε, 1/√hd, RoPE tables, shapes) must be the ones the graph would read
        for (Map.Entry<String, EncodedTensor> c : b.g.weights().entrySet()) {
            if (!(model.weights().get(c.getKey()) instanceof DenseWeight d)) return false;
            if (!d.tensor().contentEquals(((DenseWeight) c.getValue()).tensor())) return false;
        }
        return true;
    }

    private static java.util.List<String> names(java.util.List<ValueInfo> values) {
        return values.stream().map(ValueInfo::name).toList();
    }

    private Model build() {
        String ids = g.input("input_ids", DType.I64, Dim.symbolic("batch"), Dim.symbolic("seq"));
        batchSeq = g.op("Shape", "shape/input_ids", Map.of(), ids);
        ropeTables();
        String x = g.op("Gather", "model.embed_tokens", Map.of(), weight("model.embed_tokens.weight", vocab, dim), ids);
        String h = g.op("Reshape", "embed/flatten", Map.of(), x, g.constInts("flat", -1, dim)); // [T, D]
        if (gemma != null) h = g.op("Mul", "embed/scale", Map.of(), h, g.constFloat("embed_scale", gemma.embedScale()));
        String mask = causalMask();
        String slidingMask = gemma != null && gemma.slidingWindow() > 0 ? slidingMask(mask, gemma.slidingWindow()) : null;
        for (int l = 0; l < layers; l++) {
            g.scope("model.layers." + l);
            boolean local = gemma != null && gemma.sliding(l);
            h = gemma != null ? gemmaBlock(l, h, local ? slidingMask : mask, local) : block(l, h, mask);
        }
        g.scope("");
        String n = rmsNorm("model.norm", h);
        String head = model.weights().containsKey("lm_head.weight") ? "lm_head.weight" : "model.embed_tokens.weight";
        weight(head, vocab, dim);
        String logits2d = g.op("Gemm", "lm_head", attrs("transB", 1), n, head);
        if (gemma != null && gemma.finalSoftcap() > 0) logits2d = softcap(logits2d, gemma.finalSoftcap());
        g.node("logits/reshape", "Reshape", Map.of(), java.util.List.of(logits2d, shapeWith(vocab)), java.util.List.of("logits"));
        g.output("logits", DType.F32, Dim.symbolic("batch"), Dim.symbolic("seq"), Dim.fixed(vocab));
        Map<String, EncodedTensor> weights = new java.util.LinkedHashMap<>(model.weights());
        weights.putAll(g.weights());
        return model.withGraph(g.graph()).withWeights(weights).withOpsets(Map.of("", 17L));
    }

    private String block(int l, String h, String mask) {
        String p = "model.layers." + l + ".";
        String x = rmsNorm(p + "input_layernorm", h);
        h = g.op("Add", h, attention(p, x, mask, false, (float) (1.0 / Math.sqrt(headDim)), 0));
        String y = rmsNorm(p + "post_attention_layernorm", h);
        String gate = linear(p + "mlp.gate_proj", y, hidden, dim);
        String up = linear(p + "mlp.up_proj", y, hidden, dim);
        String act = g.op("Mul", g.op("Mul", gate, g.op("Sigmoid", gate)), up);
        return g.op("Add", h, linear(p + "mlp.down_proj", act, dim, hidden));
    }

    /** Gemma 2/3: each sub-layer's output RMS-normed again before its residual add; GELU-tanh gate. */
    private String gemmaBlock(int l, String h, String mask, boolean local) {
        String p = "model.layers." + l + ".";
        String x = rmsNorm(p + "input_layernorm", h);
        String attn = attention(p, x, mask, local && cosLocal != null, gemma.queryScale(), gemma.attnSoftcap());
        h = g.op("Add", h, rmsNorm(p + "post_attention_layernorm", attn));
        String y = rmsNorm(p + "pre_feedforward_layernorm", h);
        String gate = linear(p + "mlp.gate_proj", y, hidden, dim);
        String up = linear(p + "mlp.up_proj", y, hidden, dim);
        String act = g.op("Mul", g.op("Gelu", attrs("approximate", "tanh"), gate), up);
        return g.op("Add", h, rmsNorm(p + "post_feedforward_layernorm", linear(p + "mlp.down_proj", act, dim, hidden)));
    }

    /** Self-attention of one block on normed input x [T, D]: the o_proj output [T, D]. */
    private String attention(String p, String x, String mask, boolean localRope, float scale, float softcap) {
        String q = linear(p + "self_attn.q_proj", x, heads * headDim, dim);
        String k = linear(p + "self_attn.k_proj", x, kvHeads * headDim, dim);
        String v = linear(p + "self_attn.v_proj", x, kvHeads * headDim, dim);
        String qh = transposeHeads(rope(p + "q", headNorm(p + "self_attn.q_norm", heads4d(q, heads)), localRope));           // [B, H, S, hd]
        String kh = repeatKv(transposeHeads(rope(p + "k", headNorm(p + "self_attn.k_norm", heads4d(k, kvHeads)), localRope)));
        String vh = repeatKv(transposeHeads(heads4d(v, kvHeads)));
        String kt = g.op("Transpose", attrs("perm", new long[] {0, 1, 3, 2}), kh);
        String scores = g.op("Mul", g.op("MatMul", qh, kt), g.constFloat("scale", scale));
        if (softcap > 0) scores = softcap(scores, softcap);
        String probs = g.op("Softmax", attrs("axis", -1), g.op("Add", scores, mask));
        String ctx = g.op("Transpose", attrs("perm", new long[] {0, 2, 1, 3}), g.op("MatMul", probs, vh));
        String ctx2d = g.op("Reshape", ctx, g.constInts("flat", -1, (long) heads * headDim));
        return linear(p + "self_attn.o_proj", ctx2d, dim, heads * headDim);
    }

    /** Gemma's soft cap: cap · tanh(x / cap). */
    private String softcap(String x, float cap) {
        return g.op("Mul", g.op("Tanh", g.op("Div", x, g.constFloat("cap", cap))), g.constFloat("cap", cap));
    }

    /** y = x Wᵀ (+ b) with W [out][in] from the checkpoint. */
    private String linear(String name, String x, int out, int in) {
        String w = weight(name + ".weight", out, in);
        String b = name + ".bias";
        if (model.weights().containsKey(b)) {
            weight(b, out);
            return g.op("Gemm", name, attrs("transB", 1), x, w, b);
        }
        return g.op("Gemm", name, attrs("transB", 1), x, w);
    }

    /** Qwen3's RMSNorm of every query / key head over its hd values, where the checkpoint has one; else x. */
    private String headNorm(String name, String x) {
        return model.weights().containsKey(name + ".weight") ? rmsNorm(name, x, headDim) : x;
    }

    private String rmsNorm(String name, String x) {
        return rmsNorm(name, x, dim);
    }

    /** RMSNorm over the last axis (width {@code width}). */
    private String rmsNorm(String name, String x, int width) {
        String gamma = weight(name + ".weight", width);
        String ms = g.op("ReduceMean", name + "/mean_sq", attrs("axes", new long[] {-1}, "keepdims", 1), g.op("Mul", x, x));
        String rms = g.op("Sqrt", g.op("Add", ms, g.constFloat("eps", eps)));
        return g.op("Mul", name, Map.of(), g.op("Div", x, rms), gamma);
    }

    /** [T, n·hd] → [B, S, n, hd]. */
    private String heads4d(String x2d, int n) {
        return g.op("Reshape", x2d, g.op("Concat", attrs("axis", 0), batchSeq, g.constInts("heads", n, headDim)));
    }

    /** [B, S, n, hd] → [B, n, S, hd]. */
    private String transposeHeads(String x) {
        return g.op("Transpose", attrs("perm", new long[] {0, 2, 1, 3}), x);
    }

    /** [B, KVH, S, hd] → [B, H, S, hd] by repeating each kv head H/KVH times (GQA). */
    private String repeatKv(String x) {
        if (kvHeads == heads) return x;
        int rep = heads / kvHeads;
        String e = g.op("Expand", unsqueeze(new long[] {2}, x), g.constInts("rep", 1, 1, rep, 1, 1));
        String b = g.op("Slice", batchSeq, g.constInts("s", 0), g.constInts("e", 1));
        String s = g.op("Slice", batchSeq, g.constInts("s", 1), g.constInts("e", 2));
        String shape = g.op("Concat", attrs("axis", 0), b, g.constInts("h", heads), s, g.constInts("hd", headDim));
        return g.op("Reshape", e, shape);
    }

    /** Rotary embedding on [B, S, n, hd] for positions 0..S-1 (with the local tables of a Gemma 3 sliding layer). */
    private String rope(String name, String x, boolean local) {
        String s = g.op("Slice", batchSeq, g.constInts("s", 1), g.constInts("e", 2));
        String cosS = g.op("Slice", local ? cosLocal : cos, g.constInts("s", 0), s, g.constInts("ax", 0)); // [S, hd/2]
        String sinS = g.op("Slice", local ? sinLocal : sin, g.constInts("s", 0), s, g.constInts("ax", 0));
        if (interleaved) {
            // pairs (2i, 2i+1): view as [B, S, n, hd/2, 2]
            String shape5 = g.op("Concat", attrs("axis", 0), batchSeq, g.constInts("pairs", -1, headDim / 2, 2));
            String x5 = g.op("Reshape", x, shape5);
            String x0 = g.op("Slice", x5, g.constInts("s", 0), g.constInts("e", 1), g.constInts("ax", 4));
            String x1 = g.op("Slice", x5, g.constInts("s", 1), g.constInts("e", 2), g.constInts("ax", 4));
            String c = unsqueeze(new long[] {1, 3}, cosS); // [S, 1, hd/2, 1]
            String sn = unsqueeze(new long[] {1, 3}, sinS);
            String o0 = g.op("Sub", g.op("Mul", x0, c), g.op("Mul", x1, sn));
            String o1 = g.op("Add", g.op("Mul", x0, sn), g.op("Mul", x1, c));
            String o = g.op("Concat", attrs("axis", 4), o0, o1);
            return g.op("Reshape", o, g.op("Concat", attrs("axis", 0), batchSeq, g.constInts("heads", -1, headDim)));
        }
        // halves: dimension i pairs with i + hd/2; out = x·cos + rotate_half(x)·sin
        String x1 = g.op("Slice", x, g.constInts("s", 0), g.constInts("e", headDim / 2), g.constInts("ax", 3));
        String x2 = g.op("Slice", x, g.constInts("s", headDim / 2), g.constInts("e", headDim), g.constInts("ax", 3));
        String rot = g.op("Concat", attrs("axis", 3), g.op("Neg", x2), x1);
        String c = unsqueeze(new long[] {1}, g.op("Concat", attrs("axis", 1), cosS, cosS)); // [S,1,hd]
        String sn = unsqueeze(new long[] {1}, g.op("Concat", attrs("axis", 1), sinS, sinS));
        return g.op("Add", g.op("Mul", x, c), g.op("Mul", rot, sn));
    }

    /** cos/sin tables [maxPos, hd/2]: angle(p, i) = p · θ^(−2i/hd), computed in double. */
    private void ropeTables() {
        String[] global = ropeTable("", cfg::ropeAngle);
        cos = global[0];
        sin = global[1];
        if (gemma == null || gemma.localRopeTheta() <= 0) return;
        String[] local = ropeTable("_local", cfg::localRopeAngle);
        cosLocal = local[0];
        sinLocal = local[1];
    }

    private interface Angle {
        double of(int position, int pair);
    }

    /** The graph weights rope/cos{suffix} and rope/sin{suffix} [maxPos, hd/2] for angle(position, pair). */
    private String[] ropeTable(String suffix, Angle angle) {
        int half = headDim / 2;
        float[] c = new float[maxPos * half], s = new float[maxPos * half];
        for (int p = 0; p < maxPos; p++) {
            for (int i = 0; i < half; i++) {
                double a = angle.of(p, i);
                c[p * half + i] = (float) Math.cos(a);
                s[p * half + i] = (float) Math.sin(a);
            }
        }
        return new String[] {g.weight("rope/cos" + suffix, Tensor.ofFloats(c, maxPos, half)), g.weight("rope/sin" + suffix, Tensor.ofFloats(s, maxPos, half))};
    }

    /** The causal mask with keys {@code window} or more positions behind the query masked too (sliding window). */
    private String slidingMask(String causal, int window) {
        String s = squeeze(new long[] {0}, g.op("Slice", batchSeq, g.constInts("s", 1), g.constInts("e", 2)));
        String pos = g.op("Range", g.constant("zero", Tensor.ofLongs(new long[] {0})), s, g.constant("one", Tensor.ofLongs(new long[] {1})));
        String behind = g.op("Sub", unsqueeze(new long[] {1}, pos), unsqueeze(new long[] {0}, pos)); // query − key
        String far = g.op("Greater", behind, g.constant("window", Tensor.ofLongs(new long[] {window - 1})));
        return g.op("Where", "sliding_mask", Map.of(), far, g.constFloat("neg_inf", Float.NEGATIVE_INFINITY), causal);
    }

    /** [S, S] additive mask: 0 where key position ≤ query position, −inf after. */
    private String causalMask() {
        String s = squeeze(new long[] {0}, g.op("Slice", batchSeq, g.constInts("s", 1), g.constInts("e", 2)));
        String zero = g.constant("zero", Tensor.ofLongs(new long[] {0})); // scalars
        String one = g.constant("one", Tensor.ofLongs(new long[] {1}));
        String pos = g.op("Range", zero, s, one);
        String later = g.op("Greater", unsqueeze(new long[] {0}, pos),
                unsqueeze(new long[] {1}, pos));
        return g.op("Where", "causal_mask", Map.of(), later, g.constFloat("neg_inf", Float.NEGATIVE_INFINITY), g.constFloat("zero", 0f));
    }

    private String unsqueeze(long[] axes, String x) {
        return g.op("Unsqueeze", x, g.constInts("axes", axes));
    }

    private String squeeze(long[] axes, String x) {
        return g.op("Squeeze", x, g.constInts("axes", axes));
    }

    /** Shape [B, S, last] for reshaping flattened tokens back. */
    private String shapeWith(long last) {
        return g.op("Concat", attrs("axis", 0), batchSeq, g.constInts("last", last));
    }

    /** Checks that the checkpoint has the weight with the expected shape and returns its name. */
    private String weight(String name, long... shape) {
        EncodedTensor w = model.weights().get(name);
        if (w == null) throw new BadInputException(model.source() + ": missing tensor " + name);
        if (!Arrays.equals(w.shape(), shape)) {
            throw new BadInputException(model.source() + ": tensor " + name + " has shape " + Arrays.toString(w.shape())
                    + ", expected " + Arrays.toString(shape));
        }
        return name;
    }
}
