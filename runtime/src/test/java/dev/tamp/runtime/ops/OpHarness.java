package dev.tamp.runtime.ops;

import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.ir.Attribute;
import dev.tamp.core.ir.Graph;
import dev.tamp.core.ir.Model;
import dev.tamp.core.ir.ModelFormat;
import dev.tamp.core.ir.Node;
import dev.tamp.core.ir.ValueInfo;
import dev.tamp.runtime.exec.ExecutionListener;
import dev.tamp.runtime.exec.JavaBackend;
import dev.tamp.runtime.exec.Session;
import dev.tamp.runtime.kernels.Parallel;
import dev.tamp.runtime.value.Value;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Runs one node as a one-node model through the java backend: what a hand-computed op case needs. */
final class OpHarness {
    private static final Parallel PAR = new Parallel(2);

    private final String opType;
    private long opset = 17;
    private final Map<String, Attribute> attrs = new LinkedHashMap<>();
    private final List<String> inputNames = new ArrayList<>();
    private final Map<String, Value> inputs = new LinkedHashMap<>();
    private final Map<String, EncodedTensor> weights = new LinkedHashMap<>();
    private int outputs = 1;

    private OpHarness(String opType) {
        this.opType = opType;
    }

    static OpHarness op(String opType) {
        return new OpHarness(opType);
    }

    OpHarness opset(long v) { opset = v; return this; }

    OpHarness attr(String k, long v) { attrs.put(k, new Attribute.Int(v)); return this; }

    OpHarness attr(String k, float v) { attrs.put(k, new Attribute.Float(v)); return this; }

    OpHarness attr(String k, long... v) { attrs.put(k, new Attribute.Ints(v)); return this; }

    OpHarness attr(String k, Attribute v) { attrs.put(k, v); return this; }

    OpHarness in(Value v) {
        String name = "in" + inputNames.size();
        inputNames.add(name);
        inputs.put(name, v);
        return this;
    }

    /** An omitted optional input ("" in ONNX). */
    OpHarness none() { inputNames.add(""); return this; }

    /** An input that is a model weight (initializer) rather than a runtime value. */
    OpHarness weight(EncodedTensor w) {
        String name = "w" + inputNames.size();
        inputNames.add(name);
        weights.put(name, w);
        return this;
    }

    OpHarness outputs(int n) { outputs = n; return this; }

    Model model() {
        List<String> outs = new ArrayList<>();
        for (int i = 0; i < outputs; i++) outs.add("out" + i);
        Node node = new Node("the_node", opType, "", inputNames, outs, attrs);
        List<ValueInfo> gi = new ArrayList<>();
        inputs.forEach((k, v) -> gi.add(new ValueInfo(k, v.dtype, null)));
        List<ValueInfo> go = outs.stream().map(o -> new ValueInfo(o, null, null)).toList();
        return new Model(ModelFormat.ONNX, "hand-built", "unknown", new Graph("g", List.of(node), gi, go), weights,
                Map.of(), Map.of("", opset), null, List.of());
    }

    Value[] runAll() {
        try (Session s = new JavaBackend(PAR).open(model())) {
            Map<String, Value> got = s.run(new HashMap<>(inputs), List.of(), ExecutionListener.NONE);
            Value[] out = new Value[outputs];
            for (int i = 0; i < outputs; i++) out[i] = got.get("out" + i);
            return out;
        }
    }

    Value run() {
        return runAll()[0];
    }
}
