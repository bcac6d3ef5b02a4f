package dev.tamp.runtime.arch;

import static dev.tamp.core.ir.GraphBuilder.attrs;

import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.error.BadInputException;
import dev.tamp.core.ir.GraphBuilder;
import dev.tamp.core.ir.Model;
import dev.tamp.core.ir.ValueInfo.Dim;
import dev.tamp.core.tensor.DType;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds the forward graph of a BERT encoder (post-LayerNorm; all-MiniLM, bge, e5) from HF-named weights
 * (with or without a "bert." prefix), in standard ONNX ops (opset 17). Inputs {@code input_ids},
 * {@code attention_mask}, {@code token_type_ids} [batch, seq] int64; output {@code last_hidden_state}
 * [batch, seq, hidden]. Linears are {@code Gemm(x[T][in], W[out][in], bias, transB=1)} named after their
 * weight. Padding keys get −10000 added to their attention scores, as BERT does.
 */
public final class BertGraphBuilder {
    private final Model model;
    private final GraphBuilder g = new GraphBuilder("bert");
    private final String prefix;
    private final int dim, heads, headDim, layers, vocab, hidden, maxPos, typeVocab;
    private final float eps;
    private String batchSeq;

    private BertGraphBuilder(Model model) {
        this.model = model;
        ModelConfig cfg = new ModelConfig(model);
        prefix = model.weights().containsKey("bert.embeddings.word_embeddings.weight") ? "bert." : "";
        dim = cfg.integer("hidden_size");
        heads = cfg.integer("num_attention_heads");
        headDim = heads == 0 ? 0 : dim / heads;
        layers = cfg.integer("num_hidden_layers");
        vocab = cfg.integer("vocab_size");
        hidden = cfg.integer("intermediate_size");
        maxPos = cfg.integer("max_position_embeddings", 512);
        typeVocab = cfg.integer("type_vocab_size", 2);
        eps = (float) cfg.real("layer_norm_eps", 1e-12);
        if (heads <= 0 || dim % heads != 0) {
            throw new BadInputException(model.source() + ": hidden_size " + dim + " is not divisible by num_attention_heads " + heads);
        }
        String act = cfg.string("hidden_act", "gelu");
        if (!act.equals("gelu")) throw new dev.tamp.core.error.UnsupportedModelException(model.source() + ": hidden_act " + act + " is not supported (gelu only)");
    }

    public static Model build(Model model) {
        return new BertGraphBuilder(model).build();
    }

    private Model build() {
        String ids = g.input("input_ids", DType.I64, Dim.symbolic("batch"), Dim.symbolic("seq"));
        String mask = g.input("attention_mask", DType.I64, Dim.symbolic("batch"), Dim.symbolic("seq"));
        String types = g.input("token_type_ids", DType.I64, Dim.symbolic("batch"), Dim.symbolic("seq"));
        batchSeq = g.op("Shape", "shape/input_ids", Map.of(), ids);
        String e = prefix + "embeddings.";
        String words = g.op("Gather", w(e + "word_embeddings.weight", vocab, dim), ids);
        String tt = g.op("Gather", w(e + "token_type_embeddings.weight", typeVocab, dim), types);
        String s = g.op("Squeeze", g.op("Slice", batchSeq, g.constInts("s", 1), g.constInts("e", 2)), g.constInts("axes", 0));
        String pos = g.op("Range", g.constant("zero", scalar(0)), s, g.constant("one", scalar(1)));
        String pe = g.op("Gather", w(e + "position_embeddings.weight", maxPos, dim), pos); // [S, D]
        String emb = g.op("Add", g.op("Add", words, tt), pe);
        String x = g.op("Reshape", layerNorm(e + "LayerNorm", emb), g.constInts("flat", -1, dim)); // [T, D]
        // [B, 1, 1, S] additive mask: (1 − mask) · −10000
        String m = g.op("Cast", attrs("to", DType.F32.onnxCode()), mask);
        String ext = g.op("Mul", g.op("Sub", g.constFloat("one", 1f), m), g.constFloat("neg", -10000f));
        String extMask = g.op("Unsqueeze", ext, g.constInts("axes", 1, 2));
        for (int l = 0; l < layers; l++) {
            g.scope(prefix + "encoder.layer." + l);
            x = layer(l, x, extMask);
        }
        g.scope("");
        String shape = g.op("Concat", attrs("axis", 0), batchSeq, g.constInts("d", dim));
        g.node("last_hidden_state/reshape", "Reshape", Map.of(), List.of(x, shape), List.of("last_hidden_state"));
        g.output("last_hidden_state", DType.F32, Dim.symbolic("batch"), Dim.symbolic("seq"), Dim.fixed(dim));
        Map<String, EncodedTensor> weights = new LinkedHashMap<>(model.weights());
        weights.putAll(g.weights());
        return model.withGraph(g.graph()).withWeights(weights).withOpsets(Map.of("", 17L));
    }

    private String layer(int l, String x, String extMask) {
        String p = prefix + "encoder.layer." + l + ".";
        String q = heads(linear(p + "attention.self.query", x, dim, dim), new long[] {0, 2, 1, 3});
        String k = heads(linear(p + "attention.self.key", x, dim, dim), new long[] {0, 2, 3, 1});
        String v = heads(linear(p + "attention.self.value", x, dim, dim), new long[] {0, 2, 1, 3});
        String scores = g.op("Mul", g.op("MatMul", q, k), g.constFloat("scale", (float) (1.0 / Math.sqrt(headDim))));
        String probs = g.op("Softmax", attrs("axis", -1), g.op("Add", scores, extMask));
        String ctx = g.op("Transpose", attrs("perm", new long[] {0, 2, 1, 3}), g.op("MatMul", probs, v));
        String ctx2d = g.op("Reshape", ctx, g.constInts("flat", -1, dim));
        String attn = layerNorm(p + "attention.output.LayerNorm",
                g.op("Add", linear(p + "attention.output.dense", ctx2d, dim, dim), x));
        String inter = gelu(linear(p + "intermediate.dense", attn, hidden, dim));
        return layerNorm(p + "output.LayerNorm", g.op("Add", linear(p + "output.dense", inter, dim, hidden), attn));
    }

    /** [T, D] → [B, S, H, hd] → transposed by perm. */
    private String heads(String x2d, long[] perm) {
        String shape = g.op("Concat", attrs("axis", 0), batchSeq, g.constInts("heads", heads, headDim));
        return g.op("Transpose", attrs("perm", perm), g.op("Reshape", x2d, shape));
    }

    private String linear(String name, String x, int out, int in) {
        return g.op("Gemm", name, attrs("transB", 1), x, w(name + ".weight", out, in), w(name + ".bias", out));
    }

    private String layerNorm(String name, String x) {
        return g.op("LayerNormalization", name, attrs("axis", -1, "epsilon", eps), x, w(name + ".weight", dim), w(name + ".bias", dim));
    }

    /** GELU, exact (erf) form: 0.5 · x · (1 + erf(x / √2)). */
    private String gelu(String x) {
        String erf = g.op("Erf", g.op("Div", x, g.constFloat("sqrt2", (float) Math.sqrt(2.0))));
        return g.op("Mul", g.op("Mul", x, g.op("Add", erf, g.constFloat("one", 1f))), g.constFloat("half", 0.5f));
    }

    private static dev.tamp.core.tensor.Tensor scalar(long v) {
        return dev.tamp.core.tensor.Tensor.ofLongs(new long[] {v});
    }

    private String w(String name, long... shape) {
        EncodedTensor t = model.weights().get(name);
        if (t == null) throw new BadInputException(model.source() + ": missing tensor " + name);
        if (!Arrays.equals(t.shape(), shape)) {
            throw new BadInputException(model.source() + ": tensor " + name + " has shape " + Arrays.toString(t.shape())
                    + ", expected " + Arrays.toString(shape));
        }
        return name;
    }
}
