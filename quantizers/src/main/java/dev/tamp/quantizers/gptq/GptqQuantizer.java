package dev.tamp.quantizers.gptq;

import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.encoding.IntGroupedWeight;
import dev.tamp.core.error.BadInputException;
import dev.tamp.core.ir.Model;
import dev.tamp.core.progress.Progress;
import dev.tamp.quantizers.FakeQuant;
import dev.tamp.quantizers.LayerOutputError;
import dev.tamp.quantizers.LinearWeightRewriter;
import dev.tamp.quantizers.LinearWeights;
import dev.tamp.quantizers.QuantReport;
import dev.tamp.quantizers.WeightError;
import dev.tamp.runtime.arch.ArchitectureBuilders;
import dev.tamp.runtime.calib.BlockwiseCalibration;
import dev.tamp.runtime.calib.CalibrationSource;
import dev.tamp.runtime.calib.ChannelStats;
import dev.tamp.runtime.calib.LinearLayers;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * GPTQ over a whole model, block by block on {@link BlockwiseCalibration} (the same pipeline and Hessians as SparseGPT):
 * each block's linear inputs give H = XᵀX, every linear of the block is quantized by {@link Gptq} against its H, and
 * the block's quantized weights feed the next block's calibration. The report gives each layer's output error on its
 * calibration inputs next to RTN's at the same bits and groups, and names any layer that needed more dampening or fell
 * back to RTN.
 */
public final class GptqQuantizer {
    private GptqQuantizer() {}

    public static QuantReport quantize(Model model, CalibrationSource calibration, GptqOptions o, Progress progress) {
        return quantize(model, calibration, o, BlockwiseCalibration.Mode.SEQUENTIAL, progress);
    }

    public static QuantReport quantize(Model model, CalibrationSource calibration, GptqOptions o, BlockwiseCalibration.Mode mode,
                                       Progress progress) {
        Model m = ArchitectureBuilders.ensureGraph(model);
        List<LinearLayers.Linear> layers = LinearWeights.floatLinears(m, LinearWeights.withHead(o.ignore()), "gptq");
        TreeMap<Integer, List<LinearLayers.Linear>> blocks = BlockwiseCalibration.byBlock(layers);
        Map<String, EncodedTensor> shipped = new LinkedHashMap<>(m.weights());
        List<QuantReport.Row> rows = new ArrayList<>();
        int[] done = {0};
        progress.begin("gptq", layers.size());
        BlockwiseCalibration.run(m, calibration, layers, true, 0, o.propagate() == GptqOptions.Propagation.COMPRESSED, mode, (block, stats) -> {
            Map<String, EncodedTensor> effective = new LinkedHashMap<>();
            Map<String, Gptq.Hessian> hessians = new java.util.HashMap<>(); // one factorisation per shared input
            for (LinearLayers.Linear l : blocks.get(block)) {
                ChannelStats cs = stats.byInput().get(l.input());
                if (cs == null || cs.rows == 0) {
                    throw new BadInputException(m.source() + ": the calibration set never reached the linear input " + l.input());
                }
                Gptq.Hessian h = hessians.computeIfAbsent(l.input(), in -> Gptq.prepare(cs.gram, cs.k, o.actOrder(), o.dampening()));
                QuantReport.Row row = quantizeLayer(m, l, cs, h, o, effective, shipped);
                rows.add(row);
                progress.update(++done[0], l.name() + " " + row.detail());
            }
            return effective;
        }, progress);
        progress.end();
        return new QuantReport(m.withWeights(shipped), "gptq", rows);
    }

    private static QuantReport.Row quantizeLayer(Model m, LinearLayers.Linear l, ChannelStats cs, Gptq.Hessian h, GptqOptions o,
                                                 Map<String, EncodedTensor> effective, Map<String, EncodedTensor> shipped) {
        DenseWeight orig = (DenseWeight) m.weights().get(l.weight());
        int n = l.outFeatures(), k = l.inFeatures();
        float[] rows = LinearWeightRewriter.rowsOf(orig, l.kAxis());
        Gptq.Result r;
        try {
            r = Gptq.quantize(rows, n, k, h, o.bits(), o.symmetric(), o.groupSize(), o.blockSize());
        } catch (IllegalArgumentException e) {
            throw new BadInputException(m.source() + ": weight " + l.weight() + ": " + e.getMessage(), e);
        }
        IntGroupedWeight q = r.weightAs(orig.shape(), l.kAxis());
        effective.put(l.weight(), new DenseWeight(LinearWeightRewriter.fromRows(r.effective(), n, k, l.kAxis())));
        shipped.put(l.weight(), q);
        float[] rtn = FakeQuant.apply(rows, n, k, o.bits(), o.symmetric(), o.groupSize());
        double outErr = LayerOutputError.relative(rows, r.effective(), n, k, cs.gram);
        double rtnErr = LayerOutputError.relative(rows, rtn, n, k, cs.gram);
        StringBuilder detail = new StringBuilder(String.format(Locale.ROOT, "out err %.4f (rtn %.4f)", outErr, rtnErr));
        if (r.fellBack()) detail.append(", Hessian not invertible up to λ = ").append(Gptq.MAX_DAMPENING).append(": RTN");
        else if (r.dampening() != o.dampening()) detail.append(String.format(Locale.ROOT, ", dampening raised to %.3g", r.dampening()));
        if (r.deadColumns().length > 0) detail.append(", ").append(r.deadColumns().length).append(" inputs never active (zeroed)");
        return new QuantReport.Row(l.weight(), l.name(), q.describe(), WeightError.relative(rows, r.effective()), q.numel(),
                orig.storageBytes(), q.storageBytes(), detail.toString());
    }
}
