package dev.tamp.pruning;

import dev.tamp.quantizers.LayerOutputError;
import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.encoding.IntGroupedWeight;
import dev.tamp.core.encoding.Sparse24Weight;
import dev.tamp.core.error.BadInputException;
import dev.tamp.core.ir.Model;
import dev.tamp.core.progress.Progress;
import dev.tamp.core.tensor.Tensor;
import dev.tamp.formats.codec.IntGroupCodec;
import dev.tamp.formats.codec.Sparse24Codec;
import dev.tamp.quantizers.LinearWeightRewriter;
import dev.tamp.quantizers.LinearWeights;
import dev.tamp.quantizers.WeightError;
import dev.tamp.runtime.arch.ArchitectureBuilders;
import dev.tamp.runtime.calib.CalibrationSource;
import dev.tamp.runtime.calib.BlockwiseCalibration;
import dev.tamp.runtime.calib.ChannelStats;
import dev.tamp.runtime.calib.LinearLayers;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * N:M pruning of every linear layer (except --ignore'd ones and {@link PruneOptions#DEFAULT_IGNORE}), block by block
 * (algorithms.md §0.3):
 * <ol>
 *   <li>run the calibration set through the current model — earlier blocks already pruned, or the FP32 model with
 *       {@link PruneOptions.Propagation#FP} — collecting Σx² and XᵀX of every linear input of the block in one pass
 *       over the unpruned block (so the FFN-down statistics come from the unpruned FFN-up, as in the references);</li>
 *   <li>prune each of the block's linears ({@link LayerPruner}); encode it as a {@link Sparse24Weight} (its kept
 *       values optionally rounded to symmetric INT8/INT4 groups, defined over the dense K as formats.md §5.2 says: a
 *       dense group of G columns is G/2 stored values);</li>
 *   <li>the block's decoded weights replace the float ones in the working model.</li>
 * </ol>
 * A layer whose K is not a multiple of M is left dense and reported (algorithms.md §4.6). Patterns that keep more than
 * 2 of 4 (4:8, say) are stored as dense weights with zeros.
 */
public final class Pruner {
    private Pruner() {}

    public static PruneReport prune(Model model, CalibrationSource calibration, PruneOptions o, Progress progress) {
        return prune(model, calibration, o, BlockwiseCalibration.Mode.SEQUENTIAL, progress);
    }

    /** @param mode how the calibration set reaches each block (same result either way; SEQUENTIAL is L block passes) */
    public static PruneReport prune(Model model, CalibrationSource calibration, PruneOptions o, BlockwiseCalibration.Mode mode, Progress progress) {
        Model m = ArchitectureBuilders.ensureGraph(model);
        List<String> ignore = new ArrayList<>(PruneOptions.DEFAULT_IGNORE);
        ignore.addAll(o.ignore());
        List<LinearLayers.Linear> layers = LinearWeights.floatLinears(m, ignore, "pruning");
        TreeMap<Integer, List<LinearLayers.Linear>> blocks = BlockwiseCalibration.byBlock(layers);
        Map<String, EncodedTensor> shipped = new LinkedHashMap<>(m.weights());
        List<PruneReport.Row> rows = new ArrayList<>();
        progress.begin("prune " + o.method().cliName() + " " + o.pattern(), layers.size());
        int[] done = {0};
        BlockwiseCalibration.run(m, calibration, layers, true, 0, o.propagate() == PruneOptions.Propagation.COMPRESSED, mode, (block, stats) -> {
            Map<String, EncodedTensor> effective = new LinkedHashMap<>();
            for (LinearLayers.Linear l : blocks.get(block)) {
                ChannelStats cs = stats.byInput().get(l.input());
                if (cs == null || cs.rows == 0) {
                    throw new BadInputException(m.source() + ": the calibration set never reached the linear input " + l.input());
                }
                PruneReport.Row row = pruneLayer(m, l, cs, o, effective, shipped);
                rows.add(row);
                progress.update(++done[0], String.format(Locale.ROOT, "%s out err %.4f", l.name(), row.outputError()));
            }
            return effective;
        }, progress);
        progress.end();
        return new PruneReport(m.withWeights(shipped), o.method(), o.pattern(), o.propagate(), rows);
    }

    private static PruneReport.Row pruneLayer(Model m, LinearLayers.Linear l, ChannelStats cs, PruneOptions o,
                                              Map<String, EncodedTensor> working, Map<String, EncodedTensor> shipped) {
        DenseWeight orig = (DenseWeight) m.weights().get(l.weight());
        int n = l.outFeatures(), k = l.inFeatures(), kAxis = l.kAxis();
        NmPattern p = o.pattern();
        float[] rows = LinearWeightRewriter.rowsOf(orig, kAxis);
        for (int i = 0; i < rows.length; i++) {
            if (!Float.isFinite(rows[i])) {
                throw new BadInputException(m.source() + ": weight " + l.weight() + " has a non-finite value " + rows[i] + " at [" + i / k + "][" + i % k + "]");
            }
        }
        boolean whole4 = p.fits24() ? k % 4 == 0 : true;
        if (k % p.group() != 0 || !whole4) {
            return new PruneReport.Row(l.weight(), l.name(), orig.describe(), 0, 0, orig.numel(), orig.storageBytes(), orig.storageBytes(),
                    "left dense: K = " + k + " is not a multiple of " + (whole4 ? p.group() : 4));
        }
        LayerPruner.Pruned pr = LayerPruner.prune(rows, n, k, cs, o);
        EncodedTensor enc;
        float[] effective;
        long[] shape = orig.shape();
        if (p.fits24()) {
            Sparse24Weight s = Sparse24Codec.encode(pr.weights(), pr.keep(), n, k, shape, kAxis);
            if (o.weightBits() != 0) {
                Tensor kept = ((DenseWeight) s.values()).tensor();
                int g = o.groupSize() == 0 ? 0 : o.groupSize() / 2;
                IntGroupedWeight q;
                try {
                    q = IntGroupCodec.quantize(kept, 1, o.weightBits(), true, g);
                } catch (BadInputException | IllegalArgumentException e) {
                    throw new BadInputException(m.source() + ": weight " + l.weight() + ": " + e.getMessage(), e);
                }
                s = Sparse24Codec.withValues(s, q);
            }
            enc = s;
            effective = Sparse24Codec.decode(s);
        } else {
            enc = new DenseWeight(LinearWeightRewriter.fromRows(pr.weights(), n, k, kAxis));
            effective = pr.weights();
        }
        working.put(l.weight(), new DenseWeight(LinearWeightRewriter.fromRows(effective, n, k, kAxis)));
        shipped.put(l.weight(), enc);
        double outErr = LayerOutputError.relative(rows, effective, n, k, cs.gram);
        String enc24 = p.fits24() ? enc.describe() : p + "(" + enc.describe() + ", zeros stored)";
        return new PruneReport.Row(l.weight(), l.name(), enc24, outErr, WeightError.relative(rows, effective), orig.numel(),
                orig.storageBytes(), enc.storageBytes(), pr.detail());
    }
}
