package dev.tamp.runtime.kernels;

import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.encoding.DictionaryWeight;
import dev.tamp.core.encoding.LowRankWeight;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.error.UnsupportedModelException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Decodes any encoded weight to a dense row-major [N][K] float matrix (the reference meaning of every
 * encoding). Codec modules register a decoder per encoding; dense weights decode here.
 */
public final class WeightDecoders {
    private static final List<Function<EncodedTensor, float[]>> DECODERS = new ArrayList<>(List.of(
            w -> w instanceof dev.tamp.core.encoding.MxWeight m ? dev.tamp.formats.codec.MxMatrix.dequantize(m) : null,
            w -> w instanceof dev.tamp.core.encoding.IntGroupedWeight g ? dev.tamp.formats.codec.IntGroupCodec.dequantize(g) : null,
            w -> w instanceof LowRankWeight l ? FactoredWeights.decode(l) : null,
            w -> w instanceof DictionaryWeight d ? FactoredWeights.decode(d) : null,
            w -> w instanceof dev.tamp.core.encoding.Sparse24Weight s ? sparse24(s) : null));

    private WeightDecoders() {}

    /** Registers a decoder that returns null for encodings it does not handle. */
    public static synchronized void register(Function<EncodedTensor, float[]> decoder) {
        DECODERS.add(decoder);
    }

    /**
     * The weight as the graph sees it: floats in the order of {@code w.shape()}. Encoded weights decode to
     * [N][K] rows, so a weight whose K axis is 0 (an ONNX MatMul initializer [K][N]) is transposed back.
     */
    public static float[] decodeAsStored(String name, EncodedTensor w) {
        float[] rows = decode(name, w);
        if (w instanceof DenseWeight || w.shape().length != 2 || LinearKernels.kAxisOf(w) != 0) return rows;
        int k = Math.toIntExact(w.shape()[0]), n = Math.toIntExact(w.shape()[1]);
        float[] out = new float[rows.length];
        for (int j = 0; j < n; j++) for (int p = 0; p < k; p++) out[p * n + j] = rows[j * k + p];
        return out;
    }

    /** A 2:4 weight: its kept values decoded by whatever decodes their encoding, scattered by the index plane. */
    private static float[] sparse24(dev.tamp.core.encoding.Sparse24Weight s) {
        int n = Math.toIntExact(s.rows()), k = Math.toIntExact(s.cols());
        return dev.tamp.formats.codec.Sparse24Codec.scatter(decode("2:4 values", s.values()), s.indices(), n, k);
    }

    public static float[] decode(String name, EncodedTensor w) {
        if (w instanceof DenseWeight d) return d.tensor().toFloatArray();
        // Device layouts (tamp pack) decode through their exact inverse to GENERIC: the portable decoder.
        if (dev.tamp.formats.codec.PackLayouts.layoutOf(w) != dev.tamp.core.encoding.Layout.GENERIC) {
            w = dev.tamp.formats.codec.PackLayouts.toGeneric(w);
        }
        EncodedTensor generic = w;
        List<Function<EncodedTensor, float[]>> ds;
        synchronized (WeightDecoders.class) {
            ds = List.copyOf(DECODERS);
        }
        for (Function<EncodedTensor, float[]> d : ds) {
            float[] v = d.apply(generic);
            if (v != null) return v;
        }
        throw new UnsupportedModelException("weight " + name + " is encoded as " + w.describe() + ", which this backend cannot execute yet");
    }
}
