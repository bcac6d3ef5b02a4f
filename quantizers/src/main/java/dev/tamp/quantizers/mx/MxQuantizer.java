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
        return LinearWeightRewriter.rewrite(model, o.ignore(), "mx", "mx " + o.format().cliName(), progress, encoding(o));
    }

    /** The same quantization, streamed while the output is written (see {@link LinearWeightRewriter#stream}). */
    public static LinearWeightRewriter.Streamed stream(Model model, MxOptions o, Progress progress,
                                                       java.util.function.Function<String, dev.tamp.core.encoding.EncodedTensor> read) {
        return LinearWeightRewriter.stream(model, o.ignore(), "mx", "mx " + o.format().cliName(), progress, encoding(o), read);
    }

    private static LinearWeightRewriter.Encoding encoding(MxOptions o) {
        return new LinearWeightRewriter.Encoding() {
                    @Override public MxWeight encode(dev.tamp.core.encoding.DenseWeight w, dev.tamp.quantizers.LinearWeights.Target t) {
                        return MxMatrix.quantize(w.tensor(), t.kAxis(), o.format(), o.blockSize(), o.scaleRule());
                    }

                    @Override public void decodeRow(dev.tamp.core.encoding.EncodedTensor e, int row, float[] out) {
                MxMatrix.dequantizeRow((MxWeight) e, row, out, 0);
            }
                };
    }
}
