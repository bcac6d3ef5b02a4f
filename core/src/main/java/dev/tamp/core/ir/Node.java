package dev.tamp.core.ir;

import java.util.List;
import java.util.Map;

/**
 * One operation: op type (and domain, "" for the default ONNX domain), named inputs and outputs
 * ("" marks an omitted optional input), attributes.
 */
public record Node(String name, String opType, String domain, List<String> inputs, List<String> outputs,
                   Map<String, Attribute> attributes) {

    public Node {
        inputs = List.copyOf(inputs);
        outputs = List.copyOf(outputs);
        // Insertion-ordered: attribute order is written back as read (Map.copyOf would order by a per-JVM salt).
        attributes = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(attributes));
    }

    public Attribute attribute(String key) { return attributes.get(key); }

    public long intAttr(String key, long fallback) {
        return attributes.get(key) instanceof Attribute.Int i ? i.value() : fallback;
    }

    public float floatAttr(String key, float fallback) {
        return attributes.get(key) instanceof Attribute.Float f ? f.value() : fallback;
    }

    public String stringAttr(String key, String fallback) {
        return attributes.get(key) instanceof Attribute.Str s ? s.value() : fallback;
    }

    public long[] intsAttr(String key) {
        return attributes.get(key) instanceof Attribute.Ints i ? i.values().clone() : null;
    }

    /** The name to show in messages: the node's name, else its first output. */
    public String label() {
        return name != null && !name.isEmpty() ? name : (outputs.isEmpty() ? opType : outputs.get(0));
    }
}
