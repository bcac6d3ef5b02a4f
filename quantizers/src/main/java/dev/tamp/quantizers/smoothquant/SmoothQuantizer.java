package dev.tamp.quantizers.smoothquant;

import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.encoding.IntGroupedWeight;
import dev.tamp.core.ir.Model;
import dev.tamp.core.progress.Progress;
import dev.tamp.quantizers.QuantReport;
import dev.tamp.quantizers.rtn.RtnOptions;
import dev.tamp.quantizers.rtn.RtnQuantizer;
import dev.tamp.runtime.calib.CalibrationStats;
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
        List<SmoothQuant.Group> groups = new ArrayList<>();
        Model m = model;
        if (alpha >= 0) {
            SmoothQuant.Result s = SmoothQuant.smooth(model, stats, alpha, ignore);
            m = s.model();
            groups = s.groups();
        }
        QuantReport w8 = RtnQuantizer.quantize(m, new RtnOptions(8, true, 0, ignore), progress);
        Map<String, EncodedTensor> weights = new LinkedHashMap<>(w8.model().weights());
        for (QuantReport.Row r : w8.rows()) {
            IntGroupedWeight g = (IntGroupedWeight) weights.get(r.weight());
            weights.put(r.weight(), new IntGroupedWeight(g.shape(), g.kAxis(), g.bits(), g.symmetric(), g.groupSize(), g.codes(),
                    g.scales(), g.zeroPoints(), g.inputScale(), 8, 0f, g.layout()));
        }
        Map<String, String> detail = new LinkedHashMap<>();
        for (SmoothQuant.Group g : groups) {
            String d = String.format(java.util.Locale.ROOT, "smooth %s α=%.2f s∈[%.3g, %.3g]", g.route(), alpha, g.minScale(), g.maxScale());
            for (String w : g.weights()) detail.put(w, d);
        }
        List<QuantReport.Row> rows = new ArrayList<>();
        for (QuantReport.Row r : w8.rows()) {
            rows.add(new QuantReport.Row(r.weight(), r.layer(), "int8a8-sym-ch", r.relativeWeightError(), r.elements(), r.bytesBefore(), r.bytesAfter(),
                    detail.getOrDefault(r.weight(), "not smoothed")));
        }
        return new Result(new QuantReport(w8.model().withWeights(weights), "smoothquant", rows), groups);
    }
}
