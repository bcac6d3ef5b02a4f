package dev.tamp.formats.tpk;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tamp.core.encoding.EncodedTensor;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a .tpk holds: encoded tensors in order, opaque blobs (the graph as ONNX bytes, the tokenizer) and
 * free-form metadata (producer, model description, provenance, recipe).
 */
public record TpkContents(Map<String, EncodedTensor> tensors, Map<String, byte[]> blobs, ObjectNode metadata) {
    public TpkContents {
        tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
        blobs = Collections.unmodifiableMap(new LinkedHashMap<>(blobs));
    }
}
