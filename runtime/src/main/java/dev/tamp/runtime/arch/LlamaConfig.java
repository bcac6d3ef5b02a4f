package dev.tamp.runtime.arch;

import dev.tamp.core.error.BadInputException;
import dev.tamp.core.ir.Model;

/**
 * The hyper-parameters of a Llama-family decoder, read once from the HF-named config with the defaults HF
 * uses. The graph builder and the KV-cache decoder both read them from here, so the two can never disagree
 * on an ε, a θ or a RoPE layout.
 *
 * @param headDim        per-head width ({@code head_dim}, else hidden / heads)
 * @param maxPositions   {@code max_position_embeddings}: the RoPE table length, the longest sequence allowed
 * @param ropeInterleaved Meta / llama2.c / GGUF pairs (2i, 2i+1) instead of HF halves (i, i + d/2)
 * @param ropeFreqFactors per rotation pair, the divisor of its frequency ({@link RopeScaling}); null: none
 * @param gemma          Gemma 2/3's changes to the block ({@link GemmaStyle}); null for other families
 */
public record LlamaConfig(int dim, int heads, int kvHeads, int headDim, int layers, int vocab, int hidden,
                          int maxPositions, float rmsEps, double ropeTheta, boolean ropeInterleaved, double[] ropeFreqFactors,
                          GemmaStyle gemma) {

    public static LlamaConfig of(Model model) {
        ModelConfig cfg = new ModelConfig(model);
        int dim = cfg.integer("hidden_size");
        int heads = cfg.integer("num_attention_heads");
        int kvHeads = cfg.integer("num_key_value_heads", heads);
        int headDim = cfg.integer("head_dim", heads == 0 ? 0 : dim / heads);
        LlamaConfig c = new LlamaConfig(dim, heads, kvHeads, headDim, cfg.integer("num_hidden_layers"),
                cfg.integer("vocab_size"), cfg.integer("intermediate_size"), cfg.integer("max_position_embeddings", 2048),
                (float) cfg.real("rms_norm_eps", 1e-5), cfg.real("rope_theta", 10000.0), cfg.flag("rope_interleaved", false),
                RopeScaling.factors(model, headDim, cfg.real("rope_theta", 10000.0)), GemmaStyle.of(model, dim, headDim));
        if (heads <= 0 || kvHeads <= 0 || heads % kvHeads != 0 || headDim % 2 != 0) {
            throw new BadInputException(model.source() + ": inconsistent attention config (heads " + heads
                    + ", kv heads " + kvHeads + ", head dim " + headDim + ")");
        }
        return c;
    }

    /** Width of the K and V projections: kv heads × head dim (smaller than the query width under GQA). */
    public int kvDim() {
        return kvHeads * headDim;
    }

    /** RoPE angle of rotation pair i at position p: p · θ^(−2i/hd) / f_i, in double as the graph's tables are made. */
    public double ropeAngle(int position, int pair) {
        double a = position * Math.pow(ropeTheta, -2.0 * pair / headDim);
        return ropeFreqFactors == null ? a : a / ropeFreqFactors[pair];
    }

    /** The angle on a Gemma 3 sliding layer: its own base, unscaled. */
    public double localRopeAngle(int position, int pair) {
        return position * Math.pow(gemma.localRopeTheta(), -2.0 * pair / headDim);
    }
}
