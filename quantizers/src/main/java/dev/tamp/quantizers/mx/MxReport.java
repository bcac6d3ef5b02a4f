package dev.tamp.quantizers.mx;

import dev.tamp.core.ir.Model;
import java.util.List;

/** What an MX conversion did: the new model and, per weight, its format and relative weight error. */
public record MxReport(Model model, List<Row> rows) {
    public record Row(String weight, String format, double relativeError, long elements, long bytesBefore, long bytesAfter) {}
}
