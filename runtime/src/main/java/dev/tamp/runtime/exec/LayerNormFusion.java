package dev.tamp.runtime.exec;

import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.ir.Attribute;
import dev.tamp.core.ir.Node;
import dev.tamp.core.tensor.Tensor;
import java.util.List;
import java.util.Map;

/**
 * Recognises the LayerNorm that exporters before opset 17 spell out in nine ops
 * (ReduceMean, Sub, Pow 2, ReduceMean, Add ε, Sqrt, Div, Mul γ, Add β over the last axis) and replaces it by
 * one LayerNormalization node: one pass over the data instead of nine, same arithmetic (mean and variance of
 * the row, ε inside the square root). Only rewrites when every intermediate value is used inside the pattern.
 */
final class LayerNormFusion {
    private LayerNormFusion() {}

    static List<Node> apply(List<Node> nodes, Map<String, EncodedTensor> weights) {
        GraphIndex g = new GraphIndex(nodes, weights);
        for (Node add2 : nodes) {
            Node fused = match(add2, g);
            if (fused != null) g.replaced.put(add2, fused);
        }
        return g.rewritten(nodes);
    }

    /** add2 = Add(Mul(Div(d, Sqrt(Add(ReduceMean(Pow(d, 2)), ε))), γ), β) with d = Sub(x, ReduceMean(x)). */
    private static Node match(Node add2, GraphIndex g) {
        if (!add2.opType().equals("Add")) return null;
        for (int side = 0; side < 2; side++) {
            Node mul = g.producer(add2.inputs().get(side), "Mul", 1);
            String beta = add2.inputs().get(1 - side);
            if (mul == null || !isVector(g.constants, beta)) continue;
            for (int ms = 0; ms < 2; ms++) {
                Node div = g.producer(mul.inputs().get(ms), "Div", 1);
                String gamma = mul.inputs().get(1 - ms);
                if (div == null || !isVector(g.constants, gamma)) continue;
                Node sqrt = g.producer(div.inputs().get(1), "Sqrt", 1);
                Node sub = g.producer(div.inputs().get(0), "Sub", 2);
                if (sqrt == null || sub == null) continue;
                Node addEps = g.producer(sqrt.inputs().get(0), "Add", 1);
                if (addEps == null) continue;
                Node var = null;
                Float eps = null;
                for (int es = 0; es < 2; es++) {
                    Node r = g.producer(addEps.inputs().get(es), "ReduceMean", 1);
                    Tensor e = g.constants.get(addEps.inputs().get(1 - es));
                    if (r != null && e != null && e.numel() == 1) {
                        var = r;
                        eps = e.getFloat(0);
                    }
                }
                if (var == null || !lastAxisOnly(var)) continue;
                Node pow = g.producer(var.inputs().get(0), "Pow", 1);
                if (pow == null || !pow.inputs().get(0).equals(sub.outputs().get(0))) continue;
                Tensor two = g.constants.get(pow.inputs().get(1));
                if (two == null || two.numel() != 1 || two.getFloat(0) != 2f) continue;
                Node mean = g.producer(sub.inputs().get(1), "ReduceMean", 1);
                if (mean == null || !lastAxisOnly(mean) || !mean.inputs().get(0).equals(sub.inputs().get(0))) continue;
                String x = sub.inputs().get(0);
                g.removed.addAll(List.of(mean, sub, pow, var, addEps, sqrt, div, mul));
                return new Node(add2.label() + "/fused_layernorm", "LayerNormalization", "", List.of(x, gamma, beta),
                        List.of(add2.outputs().get(0)), Map.of("axis", new Attribute.Int(-1), "epsilon", new Attribute.Float(eps)));
            }
        }
        return null;
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
