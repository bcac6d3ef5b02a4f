package dev.tamp.runtime.arch;

import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.error.UnsupportedModelException;
import dev.tamp.core.ir.Model;
import dev.tamp.runtime.kernels.WeightDecoders;
import java.util.Locale;

/**
 * RoPE frequency scaling as one divisor f_i per rotation pair (angle = p·θ^(−2i/d) / f_i), the form llama.cpp
 * stores in GGUF as {@code rope_freqs.weight}. From a GGUF that tensor is read as is; from a Hugging Face config,
 * {@code rope_scaling} gives it:
 * <ul>
 *   <li>{@code llama3} (Llama 3.1/3.2): pairs whose wavelength 2π/ω is below original_ctx/high_freq_factor keep
 *       ω, those above original_ctx/low_freq_factor get ω/factor, those between a smooth mix
 *       1/f = (1−s)/factor + s with s = (original_ctx/λ − low)/(high − low) — transformers'
 *       {@code _compute_llama3_parameters} and llama.cpp's converter compute the same;</li>
 *   <li>{@code linear}: every pair ω/factor (position interpolation).</li>
 * </ul>
 * Other types (dynamic NTK, YaRN, LongRoPE) change the attention too and are refused by name.
 */
public final class RopeScaling {
    /** llama.cpp's tensor name for the per-pair divisors. */
    public static final String GGUF_TENSOR = "rope_freqs.weight";

    private RopeScaling() {}

    /** The divisors for {@code model}, or null when its RoPE is unscaled. */
    public static double[] factors(Model model, int headDim, double theta) {
        int half = headDim / 2;
        EncodedTensor stored = model.weights().get(GGUF_TENSOR);
        if (stored != null) {
            float[] f = WeightDecoders.decode(GGUF_TENSOR, stored);
            if (f.length != half) {
                throw new UnsupportedModelException(model.source() + ": " + GGUF_TENSOR + " has " + f.length + " entries, RoPE has " + half + " pairs");
            }
            double[] d = new double[half];
            for (int i = 0; i < half; i++) d[i] = f[i];
            return d;
        }
        Object type = model.config().getOrDefault("rope_scaling.rope_type", model.config().get("rope_scaling.type"));
        if (type == null || type.toString().equals("default")) return null;
        double factor = number(model, "rope_scaling.factor", Double.NaN);
        double[] f = new double[half];
        switch (type.toString().toLowerCase(Locale.ROOT)) {
            case "linear" -> java.util.Arrays.fill(f, factor);
            case "llama3" -> {
                double low = number(model, "rope_scaling.low_freq_factor", 1), high = number(model, "rope_scaling.high_freq_factor", 4);
                double original = number(model, "rope_scaling.original_max_position_embeddings", 8192);
                double lowWavelen = original / low, highWavelen = original / high;
                for (int i = 0; i < half; i++) {
                    double wavelen = 2 * Math.PI * Math.pow(theta, 2.0 * i / headDim);
                    if (wavelen < highWavelen) f[i] = 1;
                    else if (wavelen > lowWavelen) f[i] = factor;
                    else {
                        double smooth = (original / wavelen - low) / (high - low);
                        f[i] = 1 / ((1 - smooth) / factor + smooth);
                    }
                }
            }
            default -> throw new UnsupportedModelException(model.source() + ": rope_scaling type '" + type
                    + "' is not supported (supported: llama3, linear)");
        }
        return f;
    }

    private static double number(Model model, String key, double fallback) {
        Object v = model.config().get(key);
        if (v instanceof Number n) return n.doubleValue();
        if (v == null && !Double.isNaN(fallback)) return fallback;
        throw new UnsupportedModelException(model.source() + ": config " + key + " is " + (v == null ? "missing" : "not a number: " + v));
    }
}
