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
 * What pattern-matching rewrites need to know about a node list: who produces each value, how many nodes
 * read it, which values are constants (Constant nodes and dense weights); and how to splice matches in.
 */
final class GraphIndex {
    final Map<String, Node> producer = new HashMap<>();
    final Map<String, Integer> uses = new HashMap<>();
    final Map<String, Tensor> constants = new HashMap<>();
    final Set<Node> removed = new HashSet<>();
    final Map<Node, Node> replaced = new HashMap<>();

    GraphIndex(List<Node> nodes, Map<String, EncodedTensor> weights) {
        for (Node n : nodes) {
            for (String o : n.outputs()) producer.put(o, n);
            for (String i : n.inputs()) uses.merge(i, 1, Integer::sum);
            if (n.opType().equals("Constant") && n.attribute("value") instanceof Attribute.TensorValue t) constants.put(n.outputs().get(0), t.value());
        }
        weights.forEach((k, v) -> { if (v instanceof DenseWeight d) constants.put(k, d.tensor()); });
    }

    /** The node producing {@code value} when it has op type {@code op} and at most {@code maxUses} readers. */
    Node producer(String value, String op, int maxUses) {
        Node n = producer.get(value);
        if (n == null || !n.opType().equals(op) || n.outputs().size() != 1) return null;
        return uses.getOrDefault(value, 0) <= maxUses ? n : null;
    }

    boolean isScalar(String name, double value, double tol) {
        Tensor t = constants.get(name);
        return t != null && t.numel() == 1 && Math.abs(t.getFloat(0) - value) <= tol;
    }

    /** The node list with matched nodes replaced and their absorbed producers dropped. */
    List<Node> rewritten(List<Node> nodes) {
        if (replaced.isEmpty()) return nodes;
        List<Node> out = new ArrayList<>();
        for (Node n : nodes) {
            if (replaced.containsKey(n)) out.add(replaced.get(n));
            else if (!removed.contains(n)) out.add(n);
        }
        return out;
    }
}
