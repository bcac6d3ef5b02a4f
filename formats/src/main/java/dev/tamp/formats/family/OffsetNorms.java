package dev.tamp.formats.family;

import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Gemma's RMSNorms multiply by (1 + w) where Llama's multiply by w. tamp holds every norm weight as its multiplier,
 * the form llama.cpp's converter writes to GGUF (it adds the 1), so one RMSNorm serves all families: the Hugging Face
 * reader adds 1 to a Gemma checkpoint's norm weights (in float32, as the model does before multiplying), the
 * safetensors exporter takes it away again.
 */
public final class OffsetNorms {
    private OffsetNorms() {}

    /** Whether {@code name} is an RMSNorm weight (block norms, q/k norms, the final norm). */
    public static boolean isNorm(String name) {
        return name.endsWith("norm.weight");
    }

    /** The weights with each norm weight replaced by 1 + w (F32). */
    public static Map<String, EncodedTensor> toMultipliers(Map<String, EncodedTensor> weights) {
        return shifted(weights, 1f);
    }

    /** The inverse, for writing a Gemma checkpoint: each norm weight w − 1. */
    public static Map<String, EncodedTensor> toOffsets(Map<String, EncodedTensor> weights) {
        return shifted(weights, -1f);
    }

    private static Map<String, EncodedTensor> shifted(Map<String, EncodedTensor> weights, float by) {
        Map<String, EncodedTensor> out = new LinkedHashMap<>();
        weights.forEach((name, w) -> {
            if (isNorm(name) && w instanceof DenseWeight d) {
                float[] v = d.tensor().toFloatArray();
                for (int i = 0; i < v.length; i++) v[i] += by;
                out.put(name, new DenseWeight(Tensor.ofFloats(v, d.tensor().shape())));
            } else {
                out.put(name, w);
            }
        });
        return out;
    }
}
