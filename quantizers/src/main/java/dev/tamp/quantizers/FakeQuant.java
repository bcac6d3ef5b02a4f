package dev.tamp.quantizers;

import dev.tamp.core.encoding.IntGroupedWeight;
import dev.tamp.core.tensor.Tensor;
import dev.tamp.formats.codec.IntGroupCodec;

/** Quantize-then-decode of [n][k] weight rows with the codec the model will ship (the exact same arithmetic). */
public final class FakeQuant {
    private FakeQuant() {}

    public static IntGroupedWeight encode(float[] rows, int n, int k, int bits, boolean symmetric, int group) {
        return IntGroupCodec.quantize(Tensor.ofFloats(rows, n, k), 1, bits, symmetric, group);
    }

    public static float[] apply(float[] rows, int n, int k, int bits, boolean symmetric, int group) {
        return IntGroupCodec.dequantize(encode(rows, n, k, bits, symmetric, group));
    }
}
