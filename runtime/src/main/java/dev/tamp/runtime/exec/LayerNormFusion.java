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
 * Recognises the LayerNorm that exporters before opset 17 spell out in nine ops
 * (ReduceMean, Sub, Pow 2, ReduceMean, Add ε, Sqrt, Div, Mul γ, Add β over the last axis) and replaces it by
 * one LayerNormalization node: one pass over the data instead of nine, same arithmetic (mean and variance of
 * the row, ε inside the square root). Only rewrites when every intermediate value is used inside the pattern.
 */
final class LayerNormFusion {
    private LayerNormFusion() {}

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
        Map<Node, Node> replacement = new HashMap<>();
        for (Node add2 : nodes) {
            Node fused = match(add2, producer, uses, constants, removed);
            if (fused != null) replacement.put(add2, fused);
        }
        if (replacement.isEmpty()) return nodes;
        List<Node> out = new ArrayList<>();
        for (Node n : nodes) {
            if (replacement.containsKey(n)) out.add(replacement.get(n));
            else if (!removed.contains(n)) out.add(n);
        }
        return out;
    }

    /** add2 = Add(Mul(Div(d, Sqrt(Add(ReduceMean(Pow(d, 2)), ε))), γ), β) with d = Sub(x, ReduceMean(x)). */
    private static Node match(Node add2, Map<String, Node> producer, Map<String, Integer> uses, Map<String, Tensor> constants, Set<Node> removed) {
        if (!add2.opType().equals("Add")) return null;
        for (int side = 0; side < 2; side++) {
            Node mul = single(producer, uses, add2.inputs().get(side), "Mul", 1);
            String beta = add2.inputs().get(1 - side);
            if (mul == null || !isVector(constants, beta)) continue;
            for (int ms = 0; ms < 2; ms++) {
                Node div = single(producer, uses, mul.inputs().get(ms), "Div", 1);
                String gamma = mul.inputs().get(1 - ms);
                if (div == null || !isVector(constants, gamma)) continue;
                Node sqrt = single(producer, uses, div.inputs().get(1), "Sqrt", 1);
                Node sub = single(producer, uses, div.inputs().get(0), "Sub", 2);
                if (sqrt == null || sub == null) continue;
                Node addEps = single(producer, uses, sqrt.inputs().get(0), "Add", 1);
                if (addEps == null) continue;
                Node var = null;
                Float eps = null;
                for (int es = 0; es < 2; es++) {
                    Node r = single(producer, uses, addEps.inputs().get(es), "ReduceMean", 1);
                    Tensor e = constants.get(addEps.inputs().get(1 - es));
                    if (r != null && e != null && e.numel() == 1) {
                        var = r;
                        eps = e.getFloat(0);
                    }
                }
                if (var == null || !lastAxisOnly(var)) continue;
                Node pow = single(producer, uses, var.inputs().get(0), "Pow", 1);
                if (pow == null || !pow.inputs().get(0).equals(sub.outputs().get(0))) continue;
                Tensor two = constants.get(pow.inputs().get(1));
                if (two == null || two.numel() != 1 || two.getFloat(0) != 2f) continue;
                Node mean = single(producer, uses, sub.inputs().get(1), "ReduceMean", 1);
                if (mean == null || !lastAxisOnly(mean) || !mean.inputs().get(0).equals(sub.inputs().get(0))) continue;
                String x = sub.inputs().get(0);
                removed.addAll(List.of(mean, sub, pow, var, addEps, sqrt, div, mul));
                return new Node(add2.label() + "/fused_layernorm", "LayerNormalization", "", List.of(x, gamma, beta),
                        List.of(add2.outputs().get(0)), Map.of("axis", new Attribute.Int(-1), "epsilon", new Attribute.Float(eps)));
            }
        }
        return null;
    }

    private static Node single(Map<String, Node> producer, Map<String, Integer> uses, String value, String op, int maxUses) {
        Node n = producer.get(value);
        if (n == null || !n.opType().equals(op) || n.outputs().size() != 1) return null;
        return uses.getOrDefault(value, 0) <= maxUses ? n : null;
    }

    private static boolean isVector(Map<String, Tensor> constants, String name) {
        Tensor t = constants.get(name);
        return t != null && t.rank() == 1 && t.dtype().isFloatingPoint();
    }

    private static boolean lastAxisOnly(Node reduceMean) {
        long[] axes = reduceMean.intsAttr("axes");
        return axes != null && axes.length == 1 && axes[0] == -1 && reduceMean.intAttr("keepdims", 1) == 1;
    }
}
