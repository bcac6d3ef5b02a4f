package dev.tamp.core.ir;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A dataflow graph in ONNX form: nodes in file order, named inputs and outputs. Weights are not part of
 * the graph; they live in {@link Model#weights()} under the value names the nodes consume.
 */
public record Graph(String name, List<Node> nodes, List<ValueInfo> inputs, List<ValueInfo> outputs) {
    public Graph {
        nodes = List.copyOf(nodes);
        inputs = List.copyOf(inputs);
        outputs = List.copyOf(outputs);
    }

    /** Count of nodes per op type (sorted by op type), for inspect's histogram. */
    public Map<String, Integer> opHistogram() {
        Map<String, Integer> h = new TreeMap<>();
        for (Node n : nodes) {
            String key = n.domain() == null || n.domain().isEmpty() || n.domain().equals("ai.onnx")
                    ? n.opType() : n.domain() + "." + n.opType();
            h.merge(key, 1, Integer::sum);
        }
        return h;
    }

    /** Map from value name to the node producing it. */
    public Map<String, Node> producers() {
        Map<String, Node> m = new LinkedHashMap<>();
        for (Node n : nodes) for (String o : n.outputs()) m.put(o, n);
        return m;
    }

    /** Map from value name to every node consuming it, in node order. */
    public Map<String, List<Node>> consumers() {
        Map<String, List<Node>> m = new LinkedHashMap<>();
        for (Node n : nodes) for (String i : n.inputs()) if (!i.isEmpty()) m.computeIfAbsent(i, k -> new ArrayList<>()).add(n);
        return m;
    }

    public Graph withNodes(List<Node> newNodes) {
        return new Graph(name, newNodes, inputs, outputs);
    }
}
