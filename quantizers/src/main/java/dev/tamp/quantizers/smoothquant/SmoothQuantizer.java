package dev.tamp.quantizers.smoothquant;

import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.encoding.IntGroupedWeight;
import dev.tamp.core.ir.Model;
import dev.tamp.core.progress.Progress;
import dev.tamp.quantizers.QuantReport;
import dev.tamp.quantizers.rtn.RtnOptions;
import dev.tamp.quantizers.rtn.RtnQuantizer;
import dev.tamp.core.error.BadInputException;
import dev.tamp.runtime.calib.CalibrationStats;
import dev.tamp.runtime.calib.ChannelStats;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * SmoothQuant W8A8 (the llm-compressor "W8A8" preset): smoothing with strength α, then INT8 symmetric weights
 * per output channel and INT8 activations quantized per token at run time. {@code alpha < 0} skips smoothing
 * (plain W8A8, the baseline smoothing is measured against).
 */
public final class SmoothQuantizer {
    public record Result(QuantReport report, List<SmoothQuant.Group> groups) {}

    private SmoothQuantizer() {}

    public static Result quantize(Model model, CalibrationStats stats, double alpha, List<String> ignore, Progress progress) {
        if (alpha < 0) return quantize(model, stats, (SmoothQuant.AlphaChoice) null, false, ignore, progress);
        if (alpha > 1) throw new dev.tamp.core.error.BadInputException("--alpha must be in [0, 1] or auto, not " + alpha);
        return quantize(model, stats, (x, w, n) -> alpha, false, ignore, progress);
    }

    /**
     * W8A8 with α chosen per group ({@link AlphaSearch#choose} for --alpha auto; null skips smoothing). With
     * {@code staticActivations} each layer's activations use one per-tensor Δ = max over calibration tokens and
     * channels of |x_j / s_j| / 127 instead of a per-token Δ computed at run time.
     */
    public static Result quantize(Model model, CalibrationStats stats, SmoothQuant.AlphaChoice alpha, boolean staticActivations,
                                  List<String> ignore, Progress progress) {
        List<SmoothQuant.Group> groups = new ArrayList<>();
        Model m = model;
        if (alpha != null) {
            SmoothQuant.Result s = SmoothQuant.smooth(model, stats, alpha, ignore);
            m = s.model();
            groups = s.groups();
        }
        QuantReport w8 = RtnQuantizer.quantize(m, new RtnOptions(8, true, 0, ignore), progress);
        Map<String, EncodedTensor> weights = new LinkedHashMap<>(w8.model().weights());
        Map<String, float[]> inverseOf = new LinkedHashMap<>();
        for (SmoothQuant.Group g : groups) for (String w : g.weights()) inverseOf.put(w, g.inverse());
        for (QuantReport.Row r : w8.rows()) {
            IntGroupedWeight g = (IntGroupedWeight) weights.get(r.weight());
            float delta = 0f;
            if (staticActivations) {
                ChannelStats cs = stats.forWeight(r.weight());
                if (cs == null) throw new BadInputException("calibration statistics have no entry for the input of " + r.weight());
                float[] inv = inverseOf.get(r.weight());
                float amax = 0;
                for (int j = 0; j < cs.k; j++) amax = Math.max(amax, cs.absMax[j] * (inv == null ? 1f : inv[j]));
                delta = amax == 0 ? 1f : amax / 127f;
            }
            weights.put(r.weight(), new IntGroupedWeight(g.shape(), g.kAxis(), g.bits(), g.symmetric(), g.groupSize(), g.codes(),
                    g.scales(), g.zeroPoints(), g.inputScale(), 8, delta, g.layout()));
        }
        Map<String, String> detail = new LinkedHashMap<>();
        for (SmoothQuant.Group g : groups) {
            String d = g.alpha() < 0 ? "not smoothed (s ≡ 1 had the lowest W8A8 output error)"
                    : String.format(java.util.Locale.ROOT, "smooth %s α=%.2f s∈[%.3g, %.3g]", g.route(), g.alpha(), g.minScale(), g.maxScale());
            for (String w : g.weights()) detail.put(w, d);
        }
        if (staticActivations) {
            StaticScaleGuard.Decisions guard = StaticScaleGuard.decide(m, stats, weights, inverseOf);
            weights = guard.weights();
            guard.details().forEach((w, d) -> detail.merge(w, d, (x, y) -> x + "; " + y));
        }
        List<QuantReport.Row> rows = new ArrayList<>();
        for (QuantReport.Row r : w8.rows()) {
            // static where the weight kept its calibrated Δ; per token where none was set or the guard removed it
            String enc = ((IntGroupedWeight) weights.get(r.weight())).activationScale() > 0 ? "int8a8-static-sym-ch" : "int8a8-sym-ch";
            rows.add(new QuantReport.Row(r.weight(), r.layer(), enc, r.relativeWeightError(), r.elements(), r.bytesBefore(), r.bytesAfter(),
                    detail.getOrDefault(r.weight(), "not smoothed")));
        }
        return new Result(new QuantReport(w8.model().withWeights(weights), "smoothquant", rows), groups);
    }
}
