package dev.tamp.quantizers.smoothquant;

import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.encoding.IntGroupedWeight;
import dev.tamp.core.ir.Model;
import dev.tamp.formats.codec.IntGroupCodec;
import dev.tamp.quantizers.LinearWeightRewriter;
import dev.tamp.quantizers.WeightError;
import dev.tamp.runtime.calib.CalibrationStats;
import dev.tamp.runtime.calib.ChannelStats;
import dev.tamp.runtime.calib.LinearLayers;
import dev.tamp.runtime.kernels.ActivationQuantization;
import dev.tamp.runtime.kernels.Parallel;
import dev.tamp.runtime.kernels.VectorGemm;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Static (per-tensor, calibrated) INT8 activations are one Δ for every token, so a layer whose input has a few
 * tokens far larger than the rest — BERT's [CLS]/[SEP] rows, the FFN down-projection's GELU outliers — rounds
 * every ordinary token to a handful of levels. Measured with defaults: MiniLM 0.923 and BGE 0.939 mean cosine with
 * every layer static, against 0.998/0.999 per token. [OURS] Each layer's W8A8 output error on the calibration
 * tokens the observer kept is measured with its static Δ and with per-token Δ; a layer whose static error is
 * more than {@link #MAX_RATIO}× its per-token error (and above {@link #FLOOR}) keeps per-token activations, and the
 * report says so. Without kept tokens (statistics from a file) nothing can be measured: the report says that too.
 */
final class StaticScaleGuard {
    static final double MAX_RATIO = 2.0;
    static final double FLOOR = 0.01;

    /** The W8A8 weights (static Δ, or 0 where a layer keeps per-token activations) and a report detail per layer. */
    record Decisions(Map<String, EncodedTensor> weights, Map<String, String> details) {}

    private StaticScaleGuard() {}

    /** {@code smoothed}: the model after smoothing (dense weights W·diag(s)); {@code weights}: the W8A8 weights with static Δ. */
    static Decisions decide(Model smoothed, CalibrationStats stats, Map<String, EncodedTensor> weights, Map<String, float[]> inverseOf) {
        Map<String, EncodedTensor> out = new LinkedHashMap<>(weights);
        Map<String, String> detail = new LinkedHashMap<>();
        for (LinearLayers.Linear l : LinearLayers.of(smoothed)) {
            if (!(weights.get(l.weight()) instanceof IntGroupedWeight g) || g.activationBits() != 8 || !(smoothed.weights().get(l.weight()) instanceof DenseWeight dw)) continue;
            ChannelStats x = stats.forWeight(l.weight());
            if (x == null || x.sampled == 0) {
                detail.put(l.weight(), "static Δ not checked (no calibration tokens kept: calibrate here rather than from --stats)");
                continue;
            }
            int n = l.outFeatures(), k = x.k;
            float[] xs = scaledSample(x, inverseOf.get(l.weight()));
            float[] ref = new float[x.sampled * n];
            VectorGemm.gemm(xs, LinearWeightRewriter.rowsOf(dw, l.kAxis()), ref, x.sampled, n, k, Parallel.shared());
            float[] wq = IntGroupCodec.dequantize(g); // the codes as written, not a second quantization
            double eStatic = error(xs, ref, wq, x.sampled, n, k, g.activationScale());
            double eToken = error(xs, ref, wq, x.sampled, n, k, 0f);
            if (eStatic > FLOOR && eStatic > MAX_RATIO * eToken) {
                out.put(l.weight(), new IntGroupedWeight(g.shape(), g.kAxis(), g.bits(), g.symmetric(), g.groupSize(), g.codes(), g.scales(),
                        g.zeroPoints(), g.inputScale(), 8, 0f, g.layout()));
                detail.put(l.weight(), String.format(Locale.ROOT, "per-token activations kept: static Δ output error %.3f vs %.3f per token", eStatic, eToken));
            } else {
                detail.put(l.weight(), String.format(Locale.ROOT, "static Δ output error %.3f (per token %.3f)", eStatic, eToken));
            }
        }
        return new Decisions(out, detail);
    }

    /** The kept calibration tokens as the layer sees them, x·diag(1/s) (inv null: not smoothed). */
    static float[] scaledSample(ChannelStats x, float[] inv) {
        int m = x.sampled, k = x.k;
        float[] xs = new float[m * k];
        for (int t = 0; t < m; t++) for (int j = 0; j < k; j++) xs[t * k + j] = x.sample[t * k + j] * (inv == null ? 1f : inv[j]);
        return xs;
    }

    /** ‖Q(xs)·Ŵᵀ − ref‖ / ‖ref‖, ref = xs·Wᵀ in FP32; {@code delta} ≤ 0: per token. {@code xs} is left as it was. */
    static double error(float[] xs, float[] ref, float[] wq, int m, int n, int k, float delta) {
        float[] xq = xs.clone(), y = new float[m * n];
        ActivationQuantization.quantizeRows(xq, 0, m, k, 127, delta);
        VectorGemm.gemm(xq, wq, y, m, n, k, Parallel.shared());
        return WeightError.relative(ref, y); // the same relative Frobenius norm, of outputs here
    }
}
