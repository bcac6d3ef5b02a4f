package dev.tamp.quantizers.mx;

import dev.tamp.quantizers.QuantReport;

import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.encoding.MxWeight;
import dev.tamp.core.error.BadInputException;
import dev.tamp.core.error.UnsupportedModelException;
import dev.tamp.core.ir.Model;
import dev.tamp.core.progress.Progress;
import dev.tamp.formats.codec.MxMatrix;
import dev.tamp.quantizers.LinearWeights;
import dev.tamp.quantizers.WeightError;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Direct MX quantization of a model's linear weights (OCP MX v1.0 conversion, formats.md §1.4). Tensor by
 * tensor: each weight is converted from its (possibly memory-mapped) bytes and only the codes stay in memory.
 */
public final class MxQuantizer {
    private MxQuantizer() {}

    public static QuantReport quantize(Model model, MxOptions o, Progress progress) {
        List<LinearWeights.Target> targets = LinearWeights.select(model, o.ignore());
        Map<String, EncodedTensor> weights = new LinkedHashMap<>(model.weights());
        List<QuantReport.Row> rows = new ArrayList<>();
        progress.begin("mx " + o.format().cliName(), targets.size());
        int done = 0;
        for (LinearWeights.Target t : targets) {
            EncodedTensor w = weights.get(t.weight());
            if (!(w instanceof DenseWeight d) || !d.tensor().dtype().isFloatingPoint()) {
                throw new UnsupportedModelException("weight " + t.weight() + " is " + w.describe() + "; MX quantization needs a float weight");
            }
            MxWeight q;
            try {
                q = MxMatrix.quantize(d.tensor(), t.kAxis(), o.format(), o.blockSize(), o.scaleRule());
            } catch (IllegalArgumentException e) {
                throw new BadInputException(model.source() + ": weight " + t.weight() + " " + e.getMessage());
            }
            float[] orig = rowsOf(d, t.kAxis());
            rows.add(new QuantReport.Row(t.weight(), o.format().cliName(), WeightError.relative(orig, MxMatrix.dequantize(q)),
                    q.numel(), d.storageBytes(), q.storageBytes()));
            weights.put(t.weight(), q);
            progress.update(++done, t.node());
        }
        progress.end();
        return new QuantReport(model.withWeights(weights), "mx", rows);
    }

    /** The [N][K] floats of a dense weight (for error reports). */
    public static float[] rowsOf(DenseWeight d, int kAxis) {
        float[] a = d.tensor().toFloatArray();
        if (kAxis == 1) return a;
        long[] s = d.tensor().shape();
        int k = (int) s[0], n = (int) s[1];
        float[] o = new float[a.length];
        for (int p = 0; p < k; p++) for (int j = 0; j < n; j++) o[j * k + p] = a[p * n + j];
        return o;
    }
}
