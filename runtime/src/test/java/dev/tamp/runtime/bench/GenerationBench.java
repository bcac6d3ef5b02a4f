package dev.tamp.runtime.bench;

import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.ir.Model;
import dev.tamp.core.ir.ModelFormat;
import dev.tamp.core.tensor.Tensor;
import dev.tamp.core.encoding.Layout;
import dev.tamp.formats.codec.IntGroupCodec;
import dev.tamp.formats.codec.PackLayouts;
import dev.tamp.runtime.kernels.PackedKernels;
import dev.tamp.runtime.RuntimeTestModels;
import dev.tamp.runtime.arch.ArchitectureBuilders;
import dev.tamp.runtime.exec.JavaBackend;
import dev.tamp.runtime.pipeline.Generator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * scripts/bench.sh generate: greedy generation tokens/s with the KV-cache decoder against the graph re-run on the
 * whole prefix per token (-Dtamp.noKvCache), on stories260K and on a generated Llama of TinyLlama's layer
 * shape family (hidden 1024, 16 heads over 4 kv heads, intermediate 2816, vocab 32000) with W4 g128 linears
 * and head — seeded Gaussian weights: speed does not depend on values, and no real model of this width is
 * bundled. Each path runs twice to warm the JIT, then is timed once. One JSON line per model and path.
 * The W4 weights are laid out for this host's vector width ({@code tamp pack}'s layout, the fast kernel) unless
 * the fifth argument is {@code generic} (the portable tiled-decode kernel).
 * Args: [stories|generated|both] [new tokens, KV path] [new tokens, graph path] [generated layers] [host|generic].
 */
public final class GenerationBench {
    public static void main(String[] args) {
        String which = args.length > 0 ? args[0] : "both";
        int kvTokens = args.length > 1 ? Integer.parseInt(args[1]) : 64;
        int graphTokens = args.length > 2 ? Integer.parseInt(args[2]) : 16;
        int layers = args.length > 3 ? Integer.parseInt(args[3]) : 8;
        long[] prompt = {1, 403, 407, 261, 378, 395, 416, 280};
        if (!which.equals("generated")) {
            Model m = ArchitectureBuilders.ensureGraph(RuntimeTestModels.stories());
            time("stories260K", m, prompt, kvTokens, graphTokens);
        }
        boolean host = args.length <= 4 || !args[4].equals("generic");
        if (!which.equals("stories")) {
            time("llama-1024x" + layers + "-w4g128-" + (host ? "packed" : "generic"), generated(layers, host), prompt, kvTokens, graphTokens);
        }
    }

    private static void time(String name, Model m, long[] prompt, int kvTokens, int graphTokens) {
        for (boolean kv : new boolean[] {true, false}) {
            System.setProperty("tamp.noKvCache", Boolean.toString(!kv));
            int n = kv ? kvTokens : graphTokens;
            try (Generator g = new Generator(m, new JavaBackend())) {
                for (int i = 0; i < 2; i++) g.generate(prompt, n, 0, 0); // JIT warm-up (C2 intrinsifies the Vector API late) and weight preparation
                long t0 = System.nanoTime();
                g.generate(prompt, n, 0, 0);
                double s = (System.nanoTime() - t0) / 1e9;
                System.out.printf(Locale.ROOT, "{\"model\": \"%s\", \"path\": \"%s\", \"prompt\": %d, \"new_tokens\": %d, \"seconds\": %.3f, \"tokens_per_s\": %.2f}%n",
                        name, kv ? "kv-cache" : "graph", prompt.length, n, s, n / s);
            }
        }
        System.clearProperty("tamp.noKvCache");
    }

    /** A Llama with W4 g128 (symmetric) linears and head, F32 norms and embedding table. */
    static Model generated(int layers, boolean host) {
        layout = host ? PackedKernels.hostLayout() : null;
        int dim = 1024, heads = 16, kvHeads = 4, hd = 64, hidden = 2816, vocab = 32000;
        SplittableRandom r = new SplittableRandom(1);
        Map<String, EncodedTensor> w = new LinkedHashMap<>();
        w.put("model.embed_tokens.weight", new DenseWeight(random(r, 0.02, vocab, dim)));
        for (int l = 0; l < layers; l++) {
            String p = "model.layers." + l + ".";
            w.put(p + "input_layernorm.weight", new DenseWeight(ones(dim)));
            w.put(p + "self_attn.q_proj.weight", w4(random(r, 0.03, heads * hd, dim)));
            w.put(p + "self_attn.k_proj.weight", w4(random(r, 0.03, kvHeads * hd, dim)));
            w.put(p + "self_attn.v_proj.weight", w4(random(r, 0.03, kvHeads * hd, dim)));
            w.put(p + "self_attn.o_proj.weight", w4(random(r, 0.03, dim, heads * hd)));
            w.put(p + "post_attention_layernorm.weight", new DenseWeight(ones(dim)));
            w.put(p + "mlp.gate_proj.weight", w4(random(r, 0.03, hidden, dim)));
            w.put(p + "mlp.up_proj.weight", w4(random(r, 0.03, hidden, dim)));
            w.put(p + "mlp.down_proj.weight", w4(random(r, 0.02, dim, hidden)));
        }
        w.put("model.norm.weight", new DenseWeight(ones(dim)));
        w.put("lm_head.weight", w4(random(r, 0.03, vocab, dim)));
        Map<String, Object> cfg = new LinkedHashMap<>();
        cfg.put("hidden_size", dim);
        cfg.put("num_attention_heads", heads);
        cfg.put("num_key_value_heads", kvHeads);
        cfg.put("num_hidden_layers", layers);
        cfg.put("intermediate_size", hidden);
        cfg.put("vocab_size", vocab);
        cfg.put("rms_norm_eps", 1e-5);
        Model m = new Model(ModelFormat.SAFETENSORS, "generated", "llama", null, w, cfg, Map.of(), null, List.of());
        return ArchitectureBuilders.ensureGraph(m);
    }

    private static Layout layout;

    private static EncodedTensor w4(Tensor t) {
        EncodedTensor q = IntGroupCodec.quantize(t, 1, 4, true, 128);
        return layout == null ? q : PackLayouts.pack(q, layout);
    }

    private static Tensor random(SplittableRandom r, double std, long... shape) {
        float[] v = new float[(int) Tensor.numel(shape)];
        for (int i = 0; i < v.length; i++) v[i] = (float) (std * (r.nextDouble() * 2 - 1) * Math.sqrt(3));
        return Tensor.ofFloats(v, shape);
    }

    private static Tensor ones(int n) {
        float[] v = new float[n];
        java.util.Arrays.fill(v, 1f);
        return Tensor.ofFloats(v, n);
    }
}
