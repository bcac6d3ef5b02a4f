package dev.tamp.compot;

import dev.tamp.core.encoding.EncodedTensor;
import java.util.List;
import java.util.Map;

/** Per-layer encodings (same keys and order as the input) and report rows; ratio = stored / dense bytes. */
public record CompotResult(Map<String, EncodedTensor> encoded, List<LayerReport> reports, long storageBytes, long denseBytes) {
    public double achievedRatio() { return (double) storageBytes / denseBytes; }
}
