package dev.tamp.core.ir;

import dev.tamp.core.encoding.EncodedTensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A loaded model: where it came from, an optional graph (weight-only checkpoints have none until an
 * architecture builder makes one), the weights by value name in a stable order, and metadata.
 *
 * @param architecture a family guess ("bert", "llama", ...) or "unknown"
 * @param config architecture hyper-parameters as strings/numbers (hidden size, layers, ...)
 * @param opsets opset imports, domain → version (ONNX)
 * @param tokenizerJson the HF tokenizer.json bytes when the model carries or came with one, else null
 * @param provenance ordered steps applied so far (source, conversions, methods)
 */
public record Model(ModelFormat format, String source, String architecture, Graph graph,
                    Map<String, EncodedTensor> weights, Map<String, Object> config, Map<String, Long> opsets,
                    byte[] tokenizerJson, List<ProvenanceStep> provenance) {

    public Model {
        weights = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(weights));
        config = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(config));
        opsets = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(opsets));
        provenance = List.copyOf(provenance);
    }

    public long parameterCount() {
        long n = 0;
        for (EncodedTensor t : weights.values()) n += t.numel();
        return n;
    }

    public Model withWeights(Map<String, EncodedTensor> newWeights) {
        return new Model(format, source, architecture, graph, newWeights, config, opsets, tokenizerJson, provenance);
    }

    public Model withGraph(Graph newGraph) {
        return new Model(format, source, architecture, newGraph, weights, config, opsets, tokenizerJson, provenance);
    }

    public Model withStep(ProvenanceStep step) {
        List<ProvenanceStep> p = new java.util.ArrayList<>(provenance);
        p.add(step);
        return new Model(format, source, architecture, graph, weights, config, opsets, tokenizerJson, p);
    }

    public Model withOpsets(Map<String, Long> newOpsets) {
        return new Model(format, source, architecture, graph, weights, config, newOpsets, tokenizerJson, provenance);
    }

    public Model withConfig(Map<String, Object> newConfig) {
        return new Model(format, source, architecture, graph, weights, newConfig, opsets, tokenizerJson, provenance);
    }

    public Model withTokenizer(byte[] json) {
        return new Model(format, source, architecture, graph, weights, config, opsets, json, provenance);
    }
}
