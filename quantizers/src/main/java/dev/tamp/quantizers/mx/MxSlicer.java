package dev.tamp.quantizers.mx;

import dev.tamp.quantizers.QuantReport;

import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.encoding.MxFormat;
import dev.tamp.core.encoding.MxWeight;
import dev.tamp.core.error.BadInputException;
import dev.tamp.core.ir.Model;
import dev.tamp.core.progress.Progress;
import dev.tamp.formats.codec.MxMatrix;
import dev.tamp.formats.codec.SliceAndScale;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Slice-and-Scale of a whole model: every MX anchor weight (MXINT8 or MXFP8) becomes the target format from
 * its codes and scales alone (no FP32 weights needed). Used offline (`tamp mx-slice`) and at load time
 * (`tamp run ANCHOR.tpk --as mxfp4`), the elastic-precision use MF-QAT is about.
 */
public final class MxSlicer {
    private MxSlicer() {}

    public static QuantReport slice(Model anchor, MxFormat to, Progress progress) {
        Map<String, EncodedTensor> weights = new LinkedHashMap<>(anchor.weights());
        List<QuantReport.Row> rows = new ArrayList<>();
        int count = 0;
        for (EncodedTensor t : weights.values()) if (t instanceof MxWeight) count++;
        if (count == 0) throw new BadInputException(anchor.source() + ": holds no MX weights to slice (make an anchor with `tamp mx --format mxint8`)");
        progress.begin("slice to " + to.cliName(), count);
        int done = 0;
        for (Map.Entry<String, EncodedTensor> e : anchor.weights().entrySet()) {
            if (!(e.getValue() instanceof MxWeight m)) continue;
            if (!SliceAndScale.isAnchor(m.format())) {
                throw new BadInputException(anchor.source() + ": weight " + e.getKey() + " is " + m.format().cliName()
                        + ", not an anchor format (mxint8, mxfp8, mxfp8-e5m2)");
            }
            MxWeight s = MxMatrix.slice(m, to);
            rows.add(new QuantReport.Row(e.getKey(), null, to.cliName() + "<" + m.format().cliName(), Double.NaN, s.numel(), m.storageBytes(), s.storageBytes(), null));
            weights.put(e.getKey(), s);
            progress.update(++done, e.getKey());
        }
        progress.end();
        return new QuantReport(anchor.withWeights(weights), "mx-slice", rows);
    }
}
