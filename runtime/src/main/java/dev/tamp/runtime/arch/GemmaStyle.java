package dev.tamp.runtime.arch;

import dev.tamp.core.ir.Model;
import dev.tamp.formats.family.ModelFamily;

/**
 * What Gemma 2 and Gemma 3 change in the Llama graph: the embedding scaled by √hidden, "sandwich" norms (the
 * attention and FFN outputs RMS-normed again before their residual adds), a tanh-approximated GELU gate,
 * queries scaled by query_pre_attn_scalar^−½, tanh soft-capping of attention scores and final logits (Gemma 2),
 * sliding-window attention on most layers (every other layer in Gemma 2; five of six in Gemma 3, which also gives
 * those layers their own RoPE base). Norm weights are held as the multipliers (1 + w), the form GGUF stores, so
 * the RMSNorm itself is Llama's; the HF reader adds the 1 (see {@code GemmaNorms}).
 *
 * @param embedScale      √hidden
 * @param queryScale      1/√query_pre_attn_scalar
 * @param attnSoftcap     attention-score cap (0: none)
 * @param finalSoftcap    logit cap (0: none)
 * @param slidingWindow   keys within this many positions of the query on sliding layers (0: none)
 * @param slidingPeriod   a layer l is global when (l + 1) % period == 0 (Gemma 2: 2, Gemma 3: 6)
 * @param localRopeTheta  RoPE base of sliding layers (Gemma 3: 10000; 0: the model's θ)
 */
public record GemmaStyle(float embedScale, float queryScale, float attnSoftcap, float finalSoftcap, int slidingWindow,
                         int slidingPeriod, double localRopeTheta) {

    /** The Gemma specifics of {@code model}, or null for other families. */
    static GemmaStyle of(Model model, int dim, int headDim) {
        ModelFamily f = ModelFamily.of(model.architecture());
        if (f != ModelFamily.GEMMA2 && f != ModelFamily.GEMMA3) return null;
        ModelConfig c = new ModelConfig(model);
        boolean three = f == ModelFamily.GEMMA3;
        return new GemmaStyle((float) Math.sqrt(dim), (float) (1 / Math.sqrt(c.real("query_pre_attn_scalar", headDim))),
                (float) c.real("attn_logit_softcapping", three ? 0 : 50), (float) c.real("final_logit_softcapping", three ? 0 : 30),
                c.integer("sliding_window", three ? 512 : 4096), c.integer("sliding_window_pattern", three ? 6 : 2),
                three ? c.real("rope_local_base_freq", 10000) : 0);
    }

    /** Whether layer {@code l} attends within the sliding window. */
    public boolean sliding(int l) {
        return slidingWindow > 0 && (l + 1) % slidingPeriod != 0;
    }
}
