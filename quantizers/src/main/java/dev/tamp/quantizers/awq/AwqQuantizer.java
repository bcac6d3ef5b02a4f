package dev.tamp.quantizers.awq;

import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.encoding.IntGroupedWeight;
import dev.tamp.core.error.BadInputException;
import dev.tamp.core.ir.Model;
import dev.tamp.core.ir.Node;
import dev.tamp.core.progress.Progress;
import dev.tamp.formats.codec.IntGroupCodec;
import dev.tamp.quantizers.InputScaling;
import dev.tamp.quantizers.LinearWeightRewriter;
import dev.tamp.quantizers.LinearWeights;
import dev.tamp.quantizers.QuantReport;
import dev.tamp.quantizers.WeightError;
import dev.tamp.runtime.arch.ArchitectureBuilders;
import dev.tamp.runtime.calib.CalibrationSource;
import dev.tamp.runtime.calib.BlockwiseCalibration;
import dev.tamp.runtime.calib.ChannelStats;
import dev.tamp.runtime.calib.LinearLayers;
import dev.tamp.runtime.calib.TransformerBlocks;
import dev.tamp.runtime.linalg.QuadraticForm;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * AWQ W4A16 (Lin et al., MLSys 2024; algorithms.md §2), block by block:
 * <ol>
 *   <li>run the calibration set through the current model (earlier blocks already quantized, or the FP32 model
 *       with {@link AwqOptions.Propagation#FP}) collecting mean|x| and XᵀX for this block's linear inputs;</li>
 *   <li>per group of linears sharing an input (q/k/v, attention output, FFN up, FFN down — or gate/up, o, down
 *       in Llama blocks): {@link ScaleSearch} over the grid, then per member {@link ClipSearch} (not for query and
 *       key, as in the reference: their error passes through QKᵀ), then quantize W·diag(s);</li>
 *   <li>the block's quantized weights (Q(W·s)/s, decoded) replace the float ones in the working model.</li>
 * </ol>
 * The shipped model holds Q(W·s) and applies 1/s to the group's input ({@link InputScaling}: folded into an
 * RMSNorm/LayerNorm that feeds only the group, else an explicit Mul); a group whose search keeps s ≡ 1 is left
 * as is. Deviation from the references [OURS]: the loss is taken on the group's own outputs (the paper's Eq. 4),
 * not on a larger "inspect module" such as the whole attention; it is evaluated exactly through XᵀX over every
 * calibration token, where the references subsample tokens.
 */
public final class AwqQuantizer {
    /** What the search chose for one group of linears sharing an input. */
    public record Mapping(String input, List<String> weights, int block, double ratio, float minScale, float maxScale,
                          double rtnLoss, double awqLoss, String route) {}

    public record Result(QuantReport report, List<Mapping> mappings) {}

    /** Query and key projections are not clipped (llm-awq: "due to qk bmm, it is hard to clip precisely"). */
    private static final Pattern QUERY_OR_KEY = Pattern.compile("(?i)(query|(^|[^a-z])key([^a-z]|$)|(^|[._/])[qk]_proj|wqkv|[._/]w[qk]([._/]|$))");

    private AwqQuantizer() {}

    public static Result quantize(Model model, CalibrationSource calibration, AwqOptions o, Progress progress) {
        return quantize(model, calibration, o, BlockwiseCalibration.Mode.SEQUENTIAL, progress);
    }

    /** @param mode how the calibration set reaches each block (same result either way; SEQUENTIAL is L block passes) */
    public static Result quantize(Model model, CalibrationSource calibration, AwqOptions o, BlockwiseCalibration.Mode mode, Progress progress) {
        Model m = ArchitectureBuilders.ensureGraph(model);
        List<LinearLayers.Linear> observed = LinearWeights.floatLinears(m, LinearWeights.withHead(o.ignore()), "awq");
        Map<String, List<LinearLayers.Linear>> groups = new LinkedHashMap<>();
        for (LinearLayers.Linear l : observed) groups.computeIfAbsent(l.input(), k -> new ArrayList<>()).add(l);
        TreeMap<Integer, List<String>> blocks = new TreeMap<>();
        for (Map.Entry<String, List<LinearLayers.Linear>> e : groups.entrySet()) {
            LinearLayers.Linear first = e.getValue().get(0);
            blocks.computeIfAbsent(TransformerBlocks.indexOf(first.name(), first.weight()), b -> new ArrayList<>()).add(e.getKey());
        }
        Map<String, EncodedTensor> encoded = new LinkedHashMap<>();
        Map<String, QuantReport.Row> rows = new LinkedHashMap<>();
        List<Mapping> mappings = new ArrayList<>();
        List<InputScaling.Group> scalings = new ArrayList<>();
        int[] done = {0};
        progress.begin("awq", groups.size());
        BlockwiseCalibration.run(m, calibration, observed, true, 0, o.propagate() == AwqOptions.Propagation.COMPRESSED, mode, (block, stats) -> {
            Map<String, EncodedTensor> effective = new LinkedHashMap<>();
            for (String input : blocks.getOrDefault(block, List.of())) {
                ChannelStats cs = stats.byInput().get(input);
                if (cs == null || cs.rows == 0) {
                    throw new BadInputException(m.source() + ": the calibration set never reached the linear input " + input);
                }
                Mapping mp = quantizeGroup(input, groups.get(input), block, cs, o, m, effective, encoded, rows, scalings);
                mappings.add(mp);
                progress.update(++done[0], String.format(Locale.ROOT, "%s r=%.2f loss %.3g→%.3g", label(block), mp.ratio(), mp.rtnLoss(), mp.awqLoss()));
            }
            return effective;
        }, progress);
        progress.end();
        Map<String, EncodedTensor> shipped = new LinkedHashMap<>(m.weights());
        InputScaling.Result applied = InputScaling.apply(m.withWeights(shipped), scalings);
        Map<String, EncodedTensor> finalWeights = new LinkedHashMap<>(applied.model().weights());
        finalWeights.putAll(encoded);
        List<Mapping> routed = new ArrayList<>();
        List<QuantReport.Row> reportRows = new ArrayList<>();
        for (Mapping mp : mappings) {
            String route = applied.routes().getOrDefault(mp.input(), "none (s = 1)");
            routed.add(new Mapping(mp.input(), mp.weights(), mp.block(), mp.ratio(), mp.minScale(), mp.maxScale(), mp.rtnLoss(), mp.awqLoss(), route));
            for (String w : mp.weights()) {
                QuantReport.Row r = rows.get(w);
                reportRows.add(new QuantReport.Row(r.weight(), r.layer(), r.encoding(), r.relativeWeightError(), r.elements(), r.bytesBefore(),
                        r.bytesAfter(), r.detail() + ", 1/s " + route));
            }
        }
        return new Result(new QuantReport(applied.model().withWeights(finalWeights), "awq", reportRows), routed);
    }

    private static Mapping quantizeGroup(String input, List<LinearLayers.Linear> layers, int block, ChannelStats cs, AwqOptions o, Model m,
                                         Map<String, EncodedTensor> working, Map<String, EncodedTensor> encoded,
                                         Map<String, QuantReport.Row> rows, List<InputScaling.Group> scalings) {
        int k = cs.k;
        List<ScaleSearch.Member> members = new ArrayList<>();
        for (LinearLayers.Linear l : layers) {
            members.add(new ScaleSearch.Member(LinearWeightRewriter.rowsOf((DenseWeight) m.weights().get(l.weight()), l.kAxis()), l.outFeatures()));
        }
        List<String> names = new ArrayList<>();
        List<Node> nodes = new ArrayList<>();
        try (QuadraticForm gram = QuadraticForm.of(cs.gram, k, null)) {
            ScaleSearch.Result sr = ScaleSearch.search(members, k, cs.meanAbs(), gram, cs.rows, o.bits(), o.symmetric(), o.groupSize(), o.grid());
            float[] s = sr.scales();
            boolean identity = sr.ratio() == 0;
            float lo = Float.MAX_VALUE, hi = 0;
            for (float v : s) {
                lo = Math.min(lo, v);
                hi = Math.max(hi, v);
            }
            for (int i = 0; i < layers.size(); i++) {
                LinearLayers.Linear l = layers.get(i);
                ScaleSearch.Member mem = members.get(i);
                int n = mem.n();
                float[] ws = ScaleSearch.scaleColumns(mem.rows(), n, k, s);
                double shrink = 0;
                if (o.clip() && !QUERY_OR_KEY.matcher(l.name()).find()) {
                    ClipSearch.Result cr = ClipSearch.search(ws, n, k, cs.gram, identity ? null : s, o.bits(), o.symmetric(), o.groupSize(), o.grid());
                    ws = cr.clipped();
                    shrink = cr.meanShrink();
                }
                IntGroupedWeight q;
                try {
                    q = IntGroupCodec.quantize(LinearWeightRewriter.fromRows(ws, n, k, l.kAxis()), l.kAxis(), o.bits(), o.symmetric(), o.groupSize());
                } catch (BadInputException | IllegalArgumentException e) {
                    throw new BadInputException(m.source() + ": weight " + l.weight() + ": " + e.getMessage(), e);
                }
                float[] eff = IntGroupCodec.dequantize(q);
                for (int r = 0; r < n; r++) for (int j = 0; j < k; j++) eff[r * k + j] /= s[j];
                float[] w = mem.rows();
                double signal = gram.sum(w, n);
                double outErr = Math.sqrt(gram.sum((from, to, out) -> {
                    for (int x = from * k, e = to * k; x < e; x++) out[x - from * k] = eff[x] - w[x];
                }, n) / signal);
                // the search's r = 0 point is plain RTN: the same weight error, already measured
                double rtnErr = Math.sqrt(sr.rtn()[i] / signal);
                working.put(l.weight(), new DenseWeight(LinearWeightRewriter.fromRows(eff, n, k, l.kAxis())));
                encoded.put(l.weight(), q);
                DenseWeight orig = (DenseWeight) m.weights().get(l.weight());
                String detail = String.format(Locale.ROOT, "r=%.2f s∈[%.3g, %.3g] clip %.1f%% out err %.4f (rtn %.4f)",
                        sr.ratio(), lo, hi, 100 * shrink, outErr, rtnErr);
                rows.put(l.weight(), new QuantReport.Row(l.weight(), l.name(), q.describe(), WeightError.relative(w, eff), q.numel(),
                        orig.storageBytes(), q.storageBytes(), detail));
                names.add(l.weight());
                nodes.add(l.node());
            }
            if (!identity) {
                float[] inv = new float[k];
                for (int j = 0; j < k; j++) inv[j] = 1f / s[j];
                scalings.add(new InputScaling.Group(input, inv, nodes));
            }
            return new Mapping(input, names, block, sr.ratio(), lo, hi, sr.losses()[0], sr.best(), null);
        }
    }

    private static String label(int block) {
        return block == TransformerBlocks.OUTSIDE ? "outside blocks" : "block " + block;
    }
}
