package dev.tamp.runtime.calib;

import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.ir.Model;
import dev.tamp.core.ir.Node;
import java.util.ArrayList;
import java.util.List;

/**
 * The linear layers of a graph: MatMul or Gemm nodes whose right operand is a 2-D model weight. Each is
 * described by its node, weight name, input value (what calibration observes) and K axis of the weight.
 */
public final class LinearLayers {
    public record Linear(Node node, String weight, String input, int kAxis, int inFeatures, int outFeatures) {
        /** A readable layer name: the node name when it has one, else the weight name. */
        public String name() {
            return node.name() != null && !node.name().isEmpty() ? node.name() : weight;
        }
    }

    private LinearLayers() {}

    public static List<Linear> of(Model model) {
        List<Linear> out = new ArrayList<>();
        if (model.graph() == null) return out;
        for (Node n : model.graph().nodes()) {
            boolean mm = n.opType().equals("MatMul"), gemm = n.opType().equals("Gemm");
            if (!(mm || gemm) || n.inputs().size() < 2) continue;
            EncodedTensor w = model.weights().get(n.inputs().get(1));
            if (w == null || w.shape().length != 2 || model.weights().containsKey(n.inputs().get(0))) continue;
            if (gemm && n.intAttr("transA", 0) != 0) continue;
            int kAxis = mm ? 0 : (n.intAttr("transB", 0) != 0 ? 1 : 0);
            int k = (int) w.shape()[kAxis], nOut = (int) w.shape()[1 - kAxis];
            out.add(new Linear(n, n.inputs().get(1), n.inputs().get(0), kAxis, k, nOut));
        }
        return out;
    }
}
