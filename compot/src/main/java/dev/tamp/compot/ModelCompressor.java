package dev.tamp.compot;

import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.error.BadInputException;
import dev.tamp.core.error.UnsupportedModelException;
import dev.tamp.core.ir.Model;
import dev.tamp.core.progress.Progress;
import dev.tamp.quantizers.LinearWeights;
import dev.tamp.quantizers.QuantReport;
import dev.tamp.runtime.calib.CalibrationStats;
import dev.tamp.runtime.calib.ChannelStats;
import dev.tamp.runtime.linalg.Matrix;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Compresses every linear layer of a model (minus --ignore'd ones; embeddings and tied output layers are
 * never linear targets) with COMPOT or an SVD baseline, using the Grams XᵀX of one calibration pass over
 * the FP32 model. One pass rather than block by block: every layer's objective ‖X(W − Ŵ)ᵀ‖ is defined on the
 * original model's inputs, as in the paper's setting and SVD-LLM's [OURS: block-sequential is future work].
 */
public final class ModelCompressor {
    private ModelCompressor() {}

    public record Result(QuantReport report, CompotResult compression) {}

    public static Result compress(Model model, CalibrationStats stats, CompotOptions options, List<String> ignore, Progress progress) {
        List<LinearWeights.Target> targets = LinearWeights.select(model, ignore);
        if (targets.isEmpty()) throw new UnsupportedModelException(model.source() + ": no linear layers to compress");
        Map<String, LayerInput> layers = new LinkedHashMap<>();
        Map<String, String> nodes = new LinkedHashMap<>();
        for (LinearWeights.Target t : targets) {
            EncodedTensor w = model.weights().get(t.weight());
            if (!(w instanceof DenseWeight d) || !d.tensor().dtype().isFloatingPoint()) {
                throw new UnsupportedModelException("weight " + t.weight() + " is " + w.describe() + "; compot needs a float weight");
            }
            ChannelStats cs = stats.forWeight(t.weight());
            if (cs == null || cs.gram == null) {
                throw new BadInputException(model.source() + ": no calibration Gram for " + t.weight() + " (calibrate with Grams)");
            }
            try {
                layers.put(t.weight(), new LayerInput(d.tensor(), t.kAxis(), new Matrix(cs.k, cs.k, cs.gram)));
            } catch (IllegalArgumentException e) {
                throw new BadInputException(model.source() + ": weight " + t.weight() + ": " + e.getMessage(), e);
            }
            nodes.put(t.weight(), t.node());
        }
        CompotResult r;
        try {
            r = Compot.compress(layers, options, progress);
        } catch (IllegalArgumentException e) {
            throw new BadInputException(model.source() + ": " + e.getMessage(), e);
        }
        Map<String, EncodedTensor> weights = new LinkedHashMap<>(model.weights());
        List<QuantReport.Row> rows = new ArrayList<>();
        for (LayerReport lr : r.reports()) {
            LayerInput in = layers.get(lr.name());
            Matrix w = in.weightNK();
            EncodedTensor enc = r.encoded().get(lr.name());
            double weightErr = w.minus(Encodings.decodeNK(enc, in.kAxis())).frobeniusNorm() / w.frobeniusNorm();
            rows.add(new QuantReport.Row(lr.name(), nodes.get(lr.name()), lr.encoding(), weightErr, (long) in.outFeatures() * in.inFeatures(),
                    lr.denseBytes(), lr.storageBytes(), detail(lr)));
            weights.put(lr.name(), enc);
        }
        return new Result(new QuantReport(model.withWeights(weights), options.method().cliName(), rows), r);
    }

    private static String detail(LayerReport lr) {
        String shape = lr.atoms() > 0 ? "k=" + lr.atoms() + " s=" + lr.sparsity() : lr.rank() > 0 ? "rank " + lr.rank() : "dense";
        return String.format(Locale.ROOT, "%s ratio %.3f out-err %.4f", shape, lr.storageRatio(), lr.whitenedRelativeError());
    }
}
