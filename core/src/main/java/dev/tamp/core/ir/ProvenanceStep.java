package dev.tamp.core.ir;

import java.util.Map;
import java.util.TreeMap;

/** One step in a model's history: a tool action, its options, the tool version, and input hashes. */
public record ProvenanceStep(String step, Map<String, String> options, String toolVersion) {
    public ProvenanceStep {
        options = java.util.Collections.unmodifiableMap(new TreeMap<>(options));
    }

    /** The steps as a JSON array of {step, tool, options}, as packs and reports show them. */
    public static com.fasterxml.jackson.databind.node.ArrayNode toJson(java.util.List<ProvenanceStep> steps) {
        com.fasterxml.jackson.databind.node.ArrayNode a = dev.tamp.core.json.Json.mapper().createArrayNode();
        for (ProvenanceStep s : steps) {
            com.fasterxml.jackson.databind.node.ObjectNode o = a.addObject();
            o.put("step", s.step());
            o.put("tool", s.toolVersion());
            o.set("options", dev.tamp.core.json.Json.mapper().valueToTree(s.options()));
        }
        return a;
    }
}
