package dev.tamp.core.ir;

import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.tensor.DType;
import dev.tamp.core.tensor.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds a {@link Graph} and its weights op by op, naming intermediate values uniquely. Used by the
 * architecture builders (weight-only checkpoints → graph) and by tests that need small graphs.
 */
public final class GraphBuilder {
    private final String name;
    private final List<Node> nodes = new ArrayList<>();
    private final List<ValueInfo> inputs = new ArrayList<>();
    private final List<ValueInfo> outputs = new ArrayList<>();
    private final Map<String, EncodedTensor> weights = new LinkedHashMap<>();
    private int counter;
    private String scope = "";

    public GraphBuilder(String name) {
        this.name = name;
    }

    public String input(String valueName, DType dtype, ValueInfo.Dim... dims) {
        inputs.add(new ValueInfo(valueName, dtype, List.of(dims)));
        return valueName;
    }

    public void output(String valueName, DType dtype, ValueInfo.Dim... dims) {
        outputs.add(new ValueInfo(valueName, dtype, List.of(dims)));
    }

    /** Registers a weight (an initializer) under its name and returns the name. */
    public String weight(String weightName, EncodedTensor w) {
        weights.put(weightName, w);
        return weightName;
    }

    public String weight(String weightName, Tensor t) {
        return weight(weightName, new DenseWeight(t));
    }

    /** A small constant registered as a weight with a generated name. */
    public String constant(String hint, Tensor t) {
        return weight("const/" + hint + "_" + (counter++), t);
    }

    public String constInts(String hint, long... values) {
        return constant(hint, Tensor.ofLongs(values, values.length));
    }

    public String constFloat(String hint, float value) {
        return constant(hint, Tensor.ofFloats(new float[] {value}));
    }

    /** Adds a node with one output named after {@code nodeName}; returns that output name. */
    public String op(String opType, String nodeName, Map<String, Attribute> attrs, String... in) {
        String out = nodeName + ":0";
        nodes.add(new Node(nodeName, opType, "", List.of(in), List.of(out), attrs));
        return out;
    }

    /**
     * Prefixes the automatically numbered node names that follow with {@code prefix + "/"} ("" for none), so a
     * transformer block's helper ops (reshapes, residual adds) carry the block's name like its named ops do:
     * block-sequential calibration cuts the graph into blocks by node name.
     */
    public void scope(String prefix) {
        this.scope = prefix.isEmpty() ? "" : prefix + "/";
    }

    /** Adds a node with an automatically numbered name. */
    public String op(String opType, String... in) {
        return op(opType, scope + opType.toLowerCase() + "_" + (counter++), Map.of(), in);
    }

    public String op(String opType, Map<String, Attribute> attrs, String... in) {
        return op(opType, scope + opType.toLowerCase() + "_" + (counter++), attrs, in);
    }

    /** Adds a node with explicit output names. */
    public void node(String nodeName, String opType, Map<String, Attribute> attrs, List<String> in, List<String> out) {
        nodes.add(new Node(nodeName, opType, "", in, out, attrs));
    }

    public Graph graph() {
        return new Graph(name, nodes, inputs, outputs);
    }

    public Map<String, EncodedTensor> weights() {
        return weights;
    }

    public static Map<String, Attribute> attrs(Object... kv) {
        Map<String, Attribute> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            Object v = kv[i + 1];
            Attribute a;
            if (v instanceof Attribute at) a = at;
            else if (v instanceof Integer n) a = new Attribute.Int(n);
            else if (v instanceof Long n) a = new Attribute.Int(n);
            else if (v instanceof Float f) a = new Attribute.Float(f);
            else if (v instanceof Double d) a = new Attribute.Float(d.floatValue());
            else if (v instanceof String s) a = new Attribute.Str(s);
            else if (v instanceof long[] ls) a = new Attribute.Ints(ls);
            else if (v instanceof Tensor t) a = new Attribute.TensorValue(t);
            else throw new IllegalArgumentException("attribute value " + v);
            m.put((String) kv[i], a);
        }
        return m;
    }
}
