package dev.tamp.runtime.exec;

import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.ir.Node;
import dev.tamp.core.tensor.Tensor;
import java.util.List;
import java.util.Map;

/**
 * Two more exporter patterns fused at prepare time, each saving full passes over [tokens × hidden] data:
 * <ul>
 *   <li>exact GELU spelled out as Mul(Mul(x, Add(Erf(Div(x, √2)), 1)), 0.5) → ONNX Gelu (opset 20);</li>
 *   <li>a weight MatMul whose only consumer adds a bias vector → tamp.MatMulBias (bias added in the same pass),
 *       under the MatMul's own name so observers keyed on linear layers still see it.</li>
 * </ul>
 */
final class GeluAndBiasFusion {
    static final String DOMAIN = "tamp";

    private GeluAndBiasFusion() {}

    static List<Node> apply(List<Node> nodes, Map<String, EncodedTensor> weights) {
        GraphIndex g = new GraphIndex(nodes, weights);
        for (Node n : nodes) {
            Node fused = gelu(n, g);
            if (fused == null) fused = bias(n, g, weights);
            if (fused != null) g.replaced.put(n, fused);
        }
        return g.rewritten(nodes);
    }

    /** outer = Mul(inner, 0.5), inner = Mul(x, Add(Erf(Div(x, √2)), 1)). */
    private static Node gelu(Node outer, GraphIndex g) {
        if (!outer.opType().equals("Mul") || outer.inputs().size() != 2) return null;
        for (int s = 0; s < 2; s++) {
            if (!g.isScalar(outer.inputs().get(1 - s), 0.5, 1e-7)) continue;
            Node inner = g.producer(outer.inputs().get(s), "Mul", 1);
            if (inner == null) continue;
            for (int t = 0; t < 2; t++) {
                String x = inner.inputs().get(t);
                Node add = g.producer(inner.inputs().get(1 - t), "Add", 1);
                if (add == null) continue;
                for (int u = 0; u < 2; u++) {
                    if (!g.isScalar(add.inputs().get(1 - u), 1.0, 1e-7)) continue;
                    Node erf = g.producer(add.inputs().get(u), "Erf", 1);
                    if (erf == null) continue;
                    Node div = g.producer(erf.inputs().get(0), "Div", 1);
                    if (div == null || !div.inputs().get(0).equals(x) || !g.isScalar(div.inputs().get(1), Math.sqrt(2), 1e-6)) continue;
                    g.removed.addAll(List.of(inner, add, erf, div));
                    return new Node(outer.label() + "/fused_gelu", "Gelu", "", List.of(x), outer.outputs(), Map.of());
                }
            }
        }
        return null;
    }

    /** add = Add(MatMul(x, W), b) with W a 2-D weight [K][N] and b a weight vector [N]. */
    private static Node bias(Node add, GraphIndex g, Map<String, EncodedTensor> weights) {
        if (!add.opType().equals("Add") || add.inputs().size() != 2) return null;
        for (int s = 0; s < 2; s++) {
            Node mm = g.producer(add.inputs().get(s), "MatMul", 1);
            String b = add.inputs().get(1 - s);
            if (mm == null || g.removed.contains(mm)) continue;
            EncodedTensor w = weights.get(mm.inputs().get(1));
            Tensor bias = g.constants.get(b);
            if (w == null || w.shape().length != 2 || bias == null || bias.rank() != 1 || bias.numel() != w.shape()[1]) continue;
            g.removed.add(mm);
            // keeps the MatMul's name: calibration observers and reports find linear layers by node name
            return new Node(mm.label(), "MatMulBias", DOMAIN, List.of(mm.inputs().get(0), mm.inputs().get(1), b),
                    add.outputs(), Map.of());
        }
        return null;
    }
}
