package dev.tamp.runtime.exec;

import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.error.BadInputException;
import dev.tamp.core.error.TampException;
import dev.tamp.core.error.UnsupportedModelException;
import dev.tamp.core.ir.Graph;
import dev.tamp.core.ir.Model;
import dev.tamp.core.ir.Node;
import dev.tamp.core.ir.ValueInfo;
import dev.tamp.runtime.kernels.LinearKernel;
import dev.tamp.runtime.kernels.LinearKernels;
import dev.tamp.runtime.kernels.Parallel;
import dev.tamp.runtime.kernels.WeightDecoders;
import dev.tamp.runtime.ops.Op;
import dev.tamp.runtime.ops.OpContext;
import dev.tamp.runtime.ops.OpRegistry;
import dev.tamp.runtime.value.Value;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Runs a model's graph. Preparation (once): every op is looked up (an unknown op fails here, naming the node),
 * nodes are put in topological order, weight operands of MatMul/Gemm get a prepared {@link LinearKernel},
 * other weights become values, nodes computable from constants alone are folded, and each value's last use
 * is recorded. Execution: nodes run in order and every intermediate value is dropped right after its last
 * use, so memory holds only live activations.
 */
public final class GraphExecutor implements Session {
    private final Graph graph;
    private final List<Node> order;
    private final Op[] ops;
    private final Map<String, Value> constants = new HashMap<>();
    private final Map<String, LinearKernel> kernels = new HashMap<>();
    private final Map<String, Integer> lastUse = new HashMap<>();
    private final OpContext ctx;

    public GraphExecutor(Model model, Parallel parallel) {
        this.graph = model.graph();
        if (graph == null) throw new UnsupportedModelException(model.source() + ": has no graph to execute");
        long opset = model.opsets().getOrDefault("", model.opsets().getOrDefault("ai.onnx", 17L));
        this.ctx = new OpContext(opset, kernels, parallel);
        List<Node> sorted = topologicalOrder(graph, model.weights().keySet());
        this.order = Boolean.getBoolean("tamp.noFusion") ? sorted
                : GeluAndBiasFusion.apply(LayerNormFusion.apply(sorted, model.weights()), model.weights());
        this.ops = new Op[order.size()];
        for (int i = 0; i < order.size(); i++) {
            Node n = order.get(i);
            Op op = OpRegistry.get(n.domain(), n.opType());
            if (op == null) {
                throw new UnsupportedModelException("node " + n.label() + ": unsupported op "
                        + (n.domain() == null || n.domain().isEmpty() ? "" : n.domain() + ".") + n.opType());
            }
            ops[i] = op;
        }
        prepareWeights(model);
        foldConstants();
        for (int i = 0; i < order.size(); i++) for (String in : order.get(i).inputs()) lastUse.put(in, i);
    }

    /** Weights consumed only as the right operand of MatMul/Gemm become kernels; the rest become values. */
    private void prepareWeights(Model model) {
        Map<String, List<Node>> consumers = new HashMap<>();
        for (Node n : order) for (String in : n.inputs()) consumers.computeIfAbsent(in, k -> new ArrayList<>()).add(n);
        for (Map.Entry<String, EncodedTensor> e : model.weights().entrySet()) {
            String name = e.getKey();
            List<Node> users = consumers.getOrDefault(name, List.of());
            if (users.isEmpty()) continue;
            boolean needsValue = false;
            Integer kAxis = null;
            for (Node u : users) {
                Integer ax = linearKAxis(u, name, e.getValue());
                if (ax == null) needsValue = true;
                else kAxis = ax;
            }
            if (kAxis != null) kernels.put(name, LinearKernels.prepare(name, e.getValue(), kAxis));
            if (needsValue) constants.put(name, toValue(name, e.getValue()));
        }
    }

    /** The K axis when {@code n} uses weight {@code w} as a linear operand, else null. */
    private static Integer linearKAxis(Node n, String name, EncodedTensor w) {
        if (n.inputs().size() < 2 || !n.inputs().get(1).equals(name) || n.inputs().get(0).equals(name)) return null;
        if (w.shape().length != 2) return null;
        if (n.opType().equals("MatMul") || n.opType().equals("MatMulBias")) return 0;
        if (n.opType().equals("Gemm")) return n.intAttr("transB", 0) != 0 ? 1 : 0;
        return null;
    }

    private static Value toValue(String name, EncodedTensor w) {
        if (w instanceof DenseWeight d) return Value.of(d.tensor());
        float[] dense = WeightDecoders.decodeAsStored(name, w);
        return Value.floats(dense, Arrays.stream(w.shape()).mapToInt(Math::toIntExact).toArray());
    }

    private void foldConstants() {
        for (int i = 0; i < order.size(); i++) {
            Node n = order.get(i);
            boolean allConst = true;
            for (String in : n.inputs()) if (!in.isEmpty() && !constants.containsKey(in)) { allConst = false; break; }
            if (!allConst || n.opType().equals("MatMul") || n.opType().equals("Gemm")) continue;
            if (n.opType().equals("Constant") || n.inputs().stream().allMatch(in -> in.isEmpty() || constants.get(in).size() <= 1 << 16)) {
                Value[] out = runNode(i, n, inputsOf(n, constants));
                for (int o = 0; o < n.outputs().size() && o < out.length; o++) constants.put(n.outputs().get(o), out[o]);
            }
        }
    }

    private static Value[] inputsOf(Node n, Map<String, Value> values) {
        Value[] in = new Value[n.inputs().size()];
        for (int j = 0; j < in.length; j++) {
            String name = n.inputs().get(j);
            in[j] = name.isEmpty() ? null : values.get(name);
        }
        return in;
    }

    /** Nodes in an order where every input is produced before use (file order when it already is). */
    public static List<Node> topologicalOrder(Graph g, Set<String> weights) {
        Set<String> available = new HashSet<>(weights);
        for (ValueInfo v : g.inputs()) available.add(v.name());
        available.add("");
        boolean sorted = true;
        Set<String> seen = new HashSet<>(available);
        for (Node n : g.nodes()) {
            for (String in : n.inputs()) if (!seen.contains(in)) { sorted = false; break; }
            seen.addAll(n.outputs());
        }
        if (sorted) return g.nodes();
        // Kahn's algorithm, stable in file order.
        Map<String, Node> producer = new HashMap<>();
        for (Node n : g.nodes()) for (String o : n.outputs()) producer.put(o, n);
        List<Node> out = new ArrayList<>();
        Set<Node> done = new HashSet<>();
        ArrayDeque<Node> pending = new ArrayDeque<>(g.nodes());
        int stall = 0;
        while (!pending.isEmpty()) {
            Node n = pending.poll();
            boolean ready = n.inputs().stream().allMatch(available::contains);
            if (ready) {
                out.add(n);
                done.add(n);
                available.addAll(n.outputs());
                stall = 0;
            } else {
                for (String in : n.inputs()) {
                    if (!available.contains(in) && !producer.containsKey(in)) {
                        throw new UnsupportedModelException("node " + n.label() + " (" + n.opType() + "): input " + in + " is never produced");
                    }
                }
                pending.add(n);
                if (++stall > pending.size()) throw new UnsupportedModelException("graph " + g.name() + " has a cycle");
            }
        }
        return out;
    }

    @Override
    public Map<String, Value> run(Map<String, Value> inputs, Collection<String> outputs, ExecutionListener listener) {
        Map<String, Value> values = new HashMap<>(constants);
        for (ValueInfo v : graph.inputs()) {
            Value x = inputs.get(v.name());
            if (x == null) throw new BadInputException("missing model input " + v.name());
            if (v.dtype() != null && v.dtype().isFloatingPoint() != x.isFloat()) {
                throw new BadInputException("model input " + v.name() + " must be " + v.dtype().displayName() + ", got " + x.dtype.displayName());
            }
            values.put(v.name(), x);
        }
        List<String> wanted = outputs.isEmpty() ? graph.outputs().stream().map(ValueInfo::name).toList() : List.copyOf(outputs);
        Set<String> keep = new HashSet<>(wanted);
        for (int i = 0; i < order.size(); i++) {
            Node n = order.get(i);
            if (constants.containsKey(n.outputs().isEmpty() ? "" : n.outputs().get(0)) && !n.outputs().isEmpty()) {
                if (listener != ExecutionListener.NONE) listener.onNode(n, inputsOf(n, values), outputsOf(n, values));
                continue;
            }
            Value[] in = inputsOf(n, values);
            Value[] out = runNode(i, n, in);
            for (int o = 0; o < n.outputs().size() && o < out.length; o++) {
                if (!n.outputs().get(o).isEmpty()) values.put(n.outputs().get(o), out[o]);
            }
            listener.onNode(n, in, out);
            for (String name : n.inputs()) {
                if (lastUse.getOrDefault(name, -1) == i && !keep.contains(name) && !constants.containsKey(name)) values.remove(name);
            }
        }
        Map<String, Value> result = new LinkedHashMap<>();
        for (String w : wanted) {
            Value v = values.get(w);
            if (v == null) throw new BadInputException("no value named " + w + " in the graph");
            result.put(w, v);
        }
        return result;
    }

    /** Runs one node; an op failure becomes a one-line error naming the node, op and input shapes. */
    private Value[] runNode(int i, Node n, Value[] in) {
        try {
            return ops[i].run(n, in, ctx);
        } catch (TampException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new UnsupportedModelException("node " + n.label() + " (" + n.opType() + "): " + e.getMessage()
                    + " [inputs " + Arrays.toString(in) + "]", e);
        }
    }

    private static Value[] outputsOf(Node n, Map<String, Value> values) {
        Value[] out = new Value[n.outputs().size()];
        for (int o = 0; o < out.length; o++) out[o] = values.get(n.outputs().get(o));
        return out;
    }

    /** Nodes in execution order (for reports). */
    public List<Node> nodes() {
        return order;
    }

    /** The kernel prepared for a weight, if it is a linear operand. */
    public LinearKernel kernel(String weight) {
        return kernels.get(weight);
    }

}
