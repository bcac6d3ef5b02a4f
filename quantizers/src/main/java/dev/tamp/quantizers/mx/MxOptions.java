package dev.tamp.quantizers.mx;

import dev.tamp.core.encoding.MxFormat;
import dev.tamp.formats.codec.ScaleRule;
import java.util.List;

/** Options of direct MX quantization: element format, block size (32 in OCP MX), scale rule, weights to skip. */
public record MxOptions(MxFormat format, int blockSize, ScaleRule scaleRule, List<String> ignore) {
    public MxOptions {
        ignore = List.copyOf(ignore);
    }
}
