package dev.tamp.quantizers;

import dev.tamp.core.ir.Model;
import java.util.List;

/** What a weight quantizer did: the new model and, per weight, its encoding, weight error and size. */
public record QuantReport(Model model, String method, List<Row> rows) {
    /**
     * One weight; {@code layer} names the node that uses it (ONNX weights are often anonymous), or null;
     * {@code detail} says what a method chose for it (e.g. SmoothQuant's route and scale range), or null.
     */
    public record Row(String weight, String layer, String encoding, double relativeWeightError, long elements, long bytesBefore, long bytesAfter,
                      String detail) {}
}
