package dev.tamp.quantizers.rtn;

import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.encoding.IntGroupedWeight;
import dev.tamp.core.error.BadInputException;
import dev.tamp.core.error.UnsupportedModelException;
import dev.tamp.core.ir.Model;
import dev.tamp.core.progress.Progress;
import dev.tamp.formats.codec.IntGroupCodec;
import dev.tamp.quantizers.LinearWeights;
import dev.tamp.quantizers.QuantReport;
import dev.tamp.quantizers.WeightError;
import dev.tamp.quantizers.mx.MxQuantizer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Round-to-nearest weight quantization of every linear weight (the baseline AWQ and SmoothQuant are measured against). */
public final class RtnQuantizer {
    private RtnQuantizer() {}

    public static QuantReport quantize(Model model, RtnOptions o, Progress progress) {
        List<LinearWeights.Target> targets = LinearWeights.select(model, o.ignore());
        Map<String, EncodedTensor> weights = new LinkedHashMap<>(model.weights());
        List<QuantReport.Row> rows = new ArrayList<>();
        progress.begin("rtn int" + o.bits(), targets.size());
        int done = 0;
        for (LinearWeights.Target t : targets) {
            EncodedTensor w = weights.get(t.weight());
            if (!(w instanceof DenseWeight d) || !d.tensor().dtype().isFloatingPoint()) {
                throw new UnsupportedModelException("weight " + t.weight() + " is " + w.describe() + "; RTN needs a float weight");
            }
            IntGroupedWeight q;
            try {
                q = IntGroupCodec.quantize(d.tensor(), t.kAxis(), o.bits(), o.symmetric(), o.groupSize());
            } catch (IllegalArgumentException e) {
                throw new BadInputException(model.source() + ": weight " + t.weight() + " " + e.getMessage());
            }
            rows.add(new QuantReport.Row(t.weight(), q.describe(), WeightError.relative(MxQuantizer.rowsOf(d, t.kAxis()), IntGroupCodec.dequantize(q)),
                    q.numel(), d.storageBytes(), q.storageBytes()));
            weights.put(t.weight(), q);
            progress.update(++done, t.node());
        }
        progress.end();
        return new QuantReport(model.withWeights(weights), "rtn", rows);
    }
}
