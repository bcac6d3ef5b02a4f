package dev.tamp.quantizers.mx;

import dev.tamp.core.encoding.MxWeight;
import dev.tamp.core.ir.Model;
import dev.tamp.core.progress.Progress;
import dev.tamp.formats.codec.MxMatrix;
import dev.tamp.quantizers.LinearWeightRewriter;
import dev.tamp.quantizers.QuantReport;

/**
 * Direct MX quantization of a model's linear weights (OCP MX v1.0 conversion, formats.md §1.4), weight by
 * weight from the (possibly memory-mapped) source bytes.
 */
public final class MxQuantizer {
    private MxQuantizer() {}

    public static QuantReport quantize(Model model, MxOptions o, Progress progress) {
        return LinearWeightRewriter.rewrite(model, o.ignore(), "mx", "mx " + o.format().cliName(), progress,
                new LinearWeightRewriter.Encoding() {
                    @Override public MxWeight encode(dev.tamp.core.encoding.DenseWeight w, dev.tamp.quantizers.LinearWeights.Target t) {
                        return MxMatrix.quantize(w.tensor(), t.kAxis(), o.format(), o.blockSize(), o.scaleRule());
                    }

                    @Override public float[] decode(dev.tamp.core.encoding.EncodedTensor e) {
                        return MxMatrix.dequantize((MxWeight) e);
                    }
                });
    }
}
