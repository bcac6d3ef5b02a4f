package dev.tamp.compot;

import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.progress.Progress;
import dev.tamp.runtime.linalg.Linalg;
import dev.tamp.runtime.linalg.Matrix;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Entry point: compresses a set of linear layers (weights + calibration Grams) with COMPOT or one of its
 * truncated-SVD baselines under a storage ratio, uniformly or with the one-shot global allocation.
 * Graph handling (which layers, where the Grams come from) belongs to the caller.
 */
public final class Compot {
    private Compot() {}

    public static CompotResult compress(Map<String, LayerInput> layers, CompotOptions options) {
        return compress(layers, options, Progress.NONE);
    }

    public static CompotResult compress(Map<String, LayerInput> layers, CompotOptions options, Progress progress) {
        List<String> names = new ArrayList<>(layers.keySet());
        List<BudgetAllocation.Layer> shapes = new ArrayList<>();
        List<Matrix> weights = new ArrayList<>();
        long dense = 0;
        for (String name : names) {
            LayerInput in = layers.get(name);
            Matrix w = in.weightNK();
            weights.add(w);
            // The spectrum is only needed to pool for the global allocation.
            double[] sv = options.globalAllocation() && options.ratio() < 1 ? Linalg.svd(w).s() : new double[0];
            shapes.add(new BudgetAllocation.Layer(name, in.outFeatures(), in.inFeatures(), sv));
            dense += StorageBudget.denseBytes(in.outFeatures(), in.inFeatures());
        }

        List<BudgetAllocation.Choice> choices;
        if (options.ratio() >= 1) {
            choices = BudgetAllocation.choose(options.method(), shapes, BudgetAllocation.uniformBudgets(shapes, 1.0), 0, 1.0);
        } else if (options.globalAllocation()) {
            long[] budgets = BudgetAllocation.spectralBudgets(shapes, options.ratio(),
                    BudgetAllocation.MIN_LAYER_RATIO, BudgetAllocation.MAX_LAYER_RATIO);
            choices = BudgetAllocation.choose(options.method(), shapes, budgets, (long) Math.floor(options.ratio() * dense),
                    BudgetAllocation.MAX_LAYER_RATIO);
        } else {
            choices = BudgetAllocation.choose(options.method(), shapes, BudgetAllocation.uniformBudgets(shapes, options.ratio()), 0, 1.0);
        }

        progress.begin(options.method().cliName(), names.size());
        Map<String, EncodedTensor> encoded = new LinkedHashMap<>();
        List<LayerReport> reports = new ArrayList<>();
        long stored = 0;
        for (int i = 0; i < names.size(); i++) {
            String name = names.get(i);
            LayerInput in = layers.get(name);
            BudgetAllocation.Choice c = choices.get(i);
            EncodedTensor enc;
            double damping = Double.NaN;
            int iterations = 0;
            if (c.dense()) {
                enc = Encodings.dense(in);
            } else {
                switch (options.method()) {
                    case COMPOT -> {
                        LayerCompressor.DictionaryResult r = LayerCompressor.compot(in, c.atoms(), c.sparsity(),
                                options.iterations(), options.damping(), options.init(), options.seed());
                        enc = r.encoding();
                        damping = r.whitening().damping();
                        iterations = r.fit().iterations();
                    }
                    case SVD -> enc = LayerCompressor.truncatedSvd(in, c.rank());
                    case SVD_WHITENED -> {
                        Whitening wh = Whitening.of(in.gram(), options.damping());
                        enc = LayerCompressor.whitenedSvd(in, c.rank(), wh);
                        damping = wh.damping();
                    }
                    default -> throw new IllegalStateException(options.method().toString());
                }
            }
            if (enc.storageBytes() != c.storageBytes()) {
                throw new IllegalStateException("storage accounting drifted for " + name + ": planned " + c.storageBytes()
                        + " bytes, encoded " + enc.storageBytes());
            }
            double err = LayerCompressor.whitenedRelativeError(weights.get(i), Encodings.decodeNK(enc, in.kAxis()), in.gram());
            long denseBytes = StorageBudget.denseBytes(in.outFeatures(), in.inFeatures());
            reports.add(new LayerReport(name, enc.describe(), c.atoms(), c.sparsity(), c.rank(), enc.storageBytes(), denseBytes,
                    err, damping, iterations));
            encoded.put(name, enc);
            stored += enc.storageBytes();
            progress.update(i + 1, name);
        }
        progress.end();
        return new CompotResult(encoded, reports, stored, dense);
    }
}
