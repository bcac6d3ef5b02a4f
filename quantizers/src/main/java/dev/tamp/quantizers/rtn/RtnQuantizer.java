package dev.tamp.quantizers.rtn;

import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.encoding.IntGroupedWeight;
import dev.tamp.core.ir.Model;
import dev.tamp.core.progress.Progress;
import dev.tamp.formats.codec.IntGroupCodec;
import dev.tamp.quantizers.LinearWeightRewriter;
import dev.tamp.quantizers.LinearWeights;
import dev.tamp.quantizers.QuantReport;

/** Round-to-nearest weight quantization of every linear weight (the baseline AWQ and SmoothQuant are measured against). */
public final class RtnQuantizer {
    private RtnQuantizer() {}

    public static QuantReport quantize(Model model, RtnOptions o, Progress progress) {
        return LinearWeightRewriter.rewrite(model, o.ignore(), "rtn", "rtn int" + o.bits(), progress, encoding(o));
    }

    /** The same quantization, streamed while the output is written (see {@link LinearWeightRewriter#stream}). */
    public static LinearWeightRewriter.Streamed stream(Model model, RtnOptions o, Progress progress,
                                                       java.util.function.Function<String, EncodedTensor> read) {
        return LinearWeightRewriter.stream(model, o.ignore(), "rtn", "rtn int" + o.bits(), progress, encoding(o), read);
    }

    private static LinearWeightRewriter.Encoding encoding(RtnOptions o) {
        return new LinearWeightRewriter.Encoding() {
            @Override public EncodedTensor encode(DenseWeight w, LinearWeights.Target t) {
                return IntGroupCodec.quantize(w.tensor(), t.kAxis(), o.bits(), o.symmetric(), o.groupSize());
            }

            @Override public void decodeRow(EncodedTensor e, int row, float[] out) {
                IntGroupCodec.dequantizeRow((IntGroupedWeight) e, row, out, 0);
            }
        };
    }
}
