package dev.tamp.runtime.exec;

import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.ir.Attribute;
import dev.tamp.core.ir.Node;
import dev.tamp.core.tensor.Tensor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

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
        Map<String, Node> producer = new HashMap<>();
        Map<String, Integer> uses = new HashMap<>();
        Map<String, Tensor> constants = new HashMap<>();
        for (Node n : nodes) {
            for (String o : n.outputs()) producer.put(o, n);
            for (String i : n.inputs()) uses.merge(i, 1, Integer::sum);
            if (n.opType().equals("Constant") && n.attribute("value") instanceof Attribute.TensorValue t) constants.put(n.outputs().get(0), t.value());
        }
        weights.forEach((k, v) -> { if (v instanceof DenseWeight d) constants.put(k, d.tensor()); });
        Set<Node> removed = new HashSet<>();
        Map<Node, Node> replaced = new HashMap<>();
        for (Node n : nodes) {
            Node g = gelu(n, producer, uses, constants, removed);
            if (g != null) {
                replaced.put(n, g);
                continue;
            }
            Node b = bias(n, producer, uses, constants, weights, removed);
            if (b != null) replaced.put(n, b);
        }
        if (replaced.isEmpty()) return nodes;
        List<Node> out = new ArrayList<>();
        for (Node n : nodes) {
            if (replaced.containsKey(n)) out.add(replaced.get(n));
            else if (!removed.contains(n)) out.add(n);
        }
        return out;
    }

    private static boolean isScalar(Map<String, Tensor> c, String name, double value, double tol) {
        Tensor t = c.get(name);
        return t != null && t.numel() == 1 && Math.abs(t.getFloat(0) - value) <= tol;
    }

    private static Node only(Map<String, Node> producer, Map<String, Integer> uses, String value, String op) {
        Node n = producer.get(value);
        return n != null && n.opType().equals(op) && uses.getOrDefault(value, 0) == 1 ? n : null;
    }

    /** outer = Mul(inner, 0.5), inner = Mul(x, Add(Erf(Div(x, √2)), 1)). */
    private static Node gelu(Node outer, Map<String, Node> producer, Map<String, Integer> uses, Map<String, Tensor> c, Set<Node> removed) {
        if (!outer.opType().equals("Mul") || outer.inputs().size() != 2) return null;
        for (int s = 0; s < 2; s++) {
            if (!isScalar(c, outer.inputs().get(1 - s), 0.5, 1e-7)) continue;
            Node inner = only(producer, uses, outer.inputs().get(s), "Mul");
            if (inner == null) continue;
            for (int t = 0; t < 2; t++) {
                String x = inner.inputs().get(t);
                Node add = only(producer, uses, inner.inputs().get(1 - t), "Add");
                if (add == null) continue;
                for (int u = 0; u < 2; u++) {
                    if (!isScalar(c, add.inputs().get(1 - u), 1.0, 1e-7)) continue;
                    Node erf = only(producer, uses, add.inputs().get(u), "Erf");
                    if (erf == null) continue;
                    Node div = only(producer, uses, erf.inputs().get(0), "Div");
                    if (div == null || !div.inputs().get(0).equals(x) || !isScalar(c, div.inputs().get(1), Math.sqrt(2), 1e-6)) continue;
                    removed.addAll(List.of(inner, add, erf, div));
                    return new Node(outer.label() + "/fused_gelu", "Gelu", "", List.of(x), outer.outputs(), Map.of());
                }
            }
        }
        return null;
    }

    /** add = Add(MatMul(x, W), b) with W a 2-D weight [K][N] and b a weight vector [N]. */
    private static Node bias(Node add, Map<String, Node> producer, Map<String, Integer> uses, Map<String, Tensor> c,
                             Map<String, EncodedTensor> weights, Set<Node> removed) {
        if (!add.opType().equals("Add") || add.inputs().size() != 2) return null;
        for (int s = 0; s < 2; s++) {
            Node mm = only(producer, uses, add.inputs().get(s), "MatMul");
            String b = add.inputs().get(1 - s);
            if (mm == null || removed.contains(mm)) continue;
            EncodedTensor w = weights.get(mm.inputs().get(1));
            Tensor bias = c.get(b);
            if (w == null || w.shape().length != 2 || bias == null || bias.rank() != 1 || bias.numel() != w.shape()[1]) continue;
            removed.add(mm);
            // keeps the MatMul's name: calibration observers and reports find linear layers by node name
            return new Node(mm.label(), "MatMulBias", DOMAIN, List.of(mm.inputs().get(0), mm.inputs().get(1), b),
                    add.outputs(), Map.of());
        }
        return null;
    }
}
