package dev.tamp.runtime.kernels;

import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.error.UnsupportedModelException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;

/**
 * Chooses the {@link LinearKernel} for a weight operand by its encoding. Dense weights get the FP32 Vector
 * API kernel; encodings register a factory here (their modules add fast kernels without touching the
 * executor); 2:4-sparse weights get {@link Sparse24Kernel}; an encoding with no kernel but a dense decoder
 * runs through the decoded weight.
 */
public final class LinearKernels {
    /** Builds a kernel for a weight, or returns null when it does not handle that encoding. */
    public interface Factory extends BiFunction<EncodedTensor, Integer, LinearKernel> {}

    private static final List<Factory> FACTORIES = new ArrayList<>();

    private LinearKernels() {}

    public static synchronized void register(Factory f) {
        FACTORIES.add(0, f);
    }

    /**
     * @param w the weight
     * @param kAxis which axis of a dense weight is the reduction axis (0: ONNX MatMul [K][N]; 1: [N][K]);
     *              encoded weights carry their own
     */
    public static LinearKernel prepare(String name, EncodedTensor w, int kAxis) {
        return prepare(name, w, kAxis, dev.tamp.nativekernels.NativeKernels.isa());
    }

    /** One line for reports: which kernels the java backend runs integer packs on, and with which activations. */
    public static String describe() {
        String acts = System.getProperty("tamp.activations", "auto");
        return dev.tamp.nativekernels.NativeKernels.describe() + "; weight-only integer and MX packs with "
                + (acts.equals("auto") ? "int8 activations for 4-bit weights, float for wider ones" : acts + " activations");
    }

    /** The Java kernels only: the reference the native ones are tested against (and the path where none load). */
    public static LinearKernel prepareJava(String name, EncodedTensor w, int kAxis) {
        return prepare(name, w, kAxis, null);
    }

    /** The Java kernels with float activations for weight-only packs: the kernels' own tests. */
    static LinearKernel prepareJavaFloat(String name, EncodedTensor w, int kAxis) {
        return prepare(name, w, kAxis, null, NativeGroupedKernel.Activations.FLOAT);
    }

    static LinearKernel prepare(String name, EncodedTensor w, int kAxis, dev.tamp.nativekernels.NativeKernels.Isa isa) {
        return prepare(name, w, kAxis, isa, null);
    }

    /**
     * With the native kernels of {@code isa} where they take the weight (null: Java kernels only); {@code weightOnly}
     * overrides the activations of weight-only integer and MX packs (null: {@link NativeGroupedKernel#modeFor}).
     */
    static LinearKernel prepare(String name, EncodedTensor w, int kAxis, dev.tamp.nativekernels.NativeKernels.Isa isa,
                                NativeGroupedKernel.Activations weightOnly) {
        List<Factory> fs;
        synchronized (LinearKernels.class) {
            fs = List.copyOf(FACTORIES);
        }
        for (Factory f : fs) {
            LinearKernel k = f.apply(w, kAxis);
            if (k != null) return k;
        }
        if (w instanceof DenseWeight d) {
            long[] s = d.tensor().shape();
            if (s.length != 2) throw new UnsupportedModelException("weight " + name + " has rank " + s.length + "; linear weights are matrices");
            if (d.tensor().dtype() == dev.tamp.core.tensor.DType.BF16 && kAxis == 1 && !Boolean.getBoolean("tamp.bf16.widen")) {
                // kept as stored (mapped), widened chunk by chunk; -Dtamp.bf16.widen=true makes the F32 copy (comparisons)
                return new Bf16LinearKernel(d.tensor().data(), Math.toIntExact(s[0]), Math.toIntExact(s[1]), isa);
            }
            float[] v = d.tensor().toFloatArray();
            int rows = Math.toIntExact(s[0]), cols = Math.toIntExact(s[1]);
            return kAxis == 0 ? DenseLinearKernel.fromKn(v, rows, cols) : new DenseLinearKernel(v, rows, cols);
        }
        if (w instanceof dev.tamp.core.encoding.MxWeight mx) {
            LinearKernel java = PackedKernels.of(mx);
            NativeGroupedKernel.Activations mode = weightOnly != null ? weightOnly : NativeGroupedKernel.modeFor(mx.format().bits());
            LinearKernel fast = isa == null ? null : NativeGroupedKernel.of(mx, java, isa, mode);
            if (fast != null) return fast;
            return mode == NativeGroupedKernel.Activations.FLOAT ? java : blockInt8(java);
        }
        if (w instanceof dev.tamp.core.encoding.Sparse24Weight s) return Sparse24Kernel.of(name, PackedKernels.canonical(s));
        if (w instanceof dev.tamp.core.encoding.IntGroupedWeight g) {
            LinearKernel java = PackedKernels.of(g);
            NativeGroupedKernel.Activations mode = g.activationBits() > 0 || weightOnly == null ? NativeGroupedKernel.modeFor(g) : weightOnly;
            LinearKernel fast = isa == null ? null : NativeGroupedKernel.of(g, java, isa, mode);
            if (fast != null) return fast;
            if (g.inputScale() == null && g.activationBits() == 0 && mode == NativeGroupedKernel.Activations.FLOAT) return java;
            if (g.activationBits() == 0 && g.inputScale() == null) {
                return blockInt8(java); // int8 activations, Java reference
            }
            return new ActivationQuantizingKernel(java, g.activationBits(),
                    g.activationScale(), g.inputScale() == null ? null : g.inputScale().toFloatArray(), 0);
        }
        if (FactoredLinearKernel.enabled()) {
            if (w instanceof dev.tamp.core.encoding.LowRankWeight l) return FactoredLinearKernel.of(name, l);
            if (w instanceof dev.tamp.core.encoding.DictionaryWeight d) return FactoredLinearKernel.of(name, d);
        }
        float[] dense = WeightDecoders.decode(name, w);
        int n = (int) EncodedTensor.rows(w.shape(), kAxisOf(w)), k = (int) EncodedTensor.cols(w.shape(), kAxisOf(w));
        return new DenseLinearKernel(dense, n, k);
    }

    /** The Java kernel on activations quantized per block of 32 as the native int8 path does (its reference). */
    private static LinearKernel blockInt8(LinearKernel java) {
        return new ActivationQuantizingKernel(java, 8, 0f, null, NativeGroupedKernel.BLOCK);
    }

    static int kAxisOf(EncodedTensor w) {
        if (w instanceof dev.tamp.core.encoding.IntGroupedWeight g) return g.kAxis();
        if (w instanceof dev.tamp.core.encoding.MxWeight m) return m.kAxis();
        if (w instanceof dev.tamp.core.encoding.Sparse24Weight s) return s.kAxis();
        if (w instanceof dev.tamp.core.encoding.LowRankWeight l) return l.kAxis();
        if (w instanceof dev.tamp.core.encoding.DictionaryWeight d) return d.kAxis();
        return 1;
    }
}
