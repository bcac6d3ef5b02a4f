package dev.tamp.core.ir;

import java.util.Map;
import java.util.TreeMap;

/** One step in a model's history: a tool action, its options, the tool version, and input hashes. */
public record ProvenanceStep(String step, Map<String, String> options, String toolVersion) {
    public ProvenanceStep {
        options = java.util.Collections.unmodifiableMap(new TreeMap<>(options));
    }
}
