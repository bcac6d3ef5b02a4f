package dev.tamp.pruning;

import dev.tamp.quantizers.LayerOutputError;
import dev.tamp.core.ir.Model;
import java.util.List;

/** What pruning did: the new model and, per linear weight, its encoding and errors. */
public record PruneReport(Model model, PruneMethod method, NmPattern pattern, PruneOptions.Propagation propagate, List<Row> rows) {
    /**
     * One weight.
     *
     * @param layer               the node that uses it (ONNX weights are often anonymous)
     * @param encoding            "2:4(f32)", "2:4(int8-sym-ch)", or "f32" for a layer left dense
     * @param outputError         ‖X(Ŵ−W)ᵀ‖/‖XWᵀ‖ on this layer's calibration inputs (see {@link LayerOutputError})
     * @param relativeWeightError ‖Ŵ−W‖/‖W‖
     * @param detail              what the method chose or why the layer was skipped, or null
     */
    public record Row(String weight, String layer, String encoding, double outputError, double relativeWeightError, long elements,
                      long bytesBefore, long bytesAfter, String detail) {}
}
