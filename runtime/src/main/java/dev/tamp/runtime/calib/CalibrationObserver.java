package dev.tamp.runtime.calib;

import dev.tamp.core.ir.Node;
import dev.tamp.runtime.exec.ExecutionListener;
import dev.tamp.runtime.kernels.Parallel;
import dev.tamp.runtime.value.Value;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Collects {@link ChannelStats} for the input of every linear layer while the model runs on calibration
 * batches. Layers sharing an input (q, k, v) share one set of statistics, keyed by the input value's name.
 * The caller sets the token mask of each batch so padding never enters a statistic.
 */
public final class CalibrationObserver implements ExecutionListener {
    private final Map<String, LinearLayers.Linear> byNode = new LinkedHashMap<>();
    private final Map<String, ChannelStats> stats = new LinkedHashMap<>();
    private final boolean withGram;
    private final int sampleRows;
    private final Parallel parallel;
    private boolean[] rowMask;
    // q, k and v read the same value: observe each value once, not once per consumer.
    private final Map<String, Value> lastSeen = new java.util.HashMap<>();

    public CalibrationObserver(List<LinearLayers.Linear> layers, boolean withGram, Parallel parallel) {
        this(layers, withGram, 0, parallel);
    }

    /** @param sampleRows how many (unpadded) input rows to keep per linear input, besides the statistics */
    public CalibrationObserver(List<LinearLayers.Linear> layers, boolean withGram, int sampleRows, Parallel parallel) {
        for (LinearLayers.Linear l : layers) byNode.put(l.node().label(), l);
        this.withGram = withGram;
        this.sampleRows = sampleRows;
        this.parallel = parallel;
    }

    /** Token mask (flattened batch × sequence) of the next run; null means every row counts. */
    public void setRowMask(boolean[] mask) {
        this.rowMask = mask;
    }

    @Override
    public void onNode(Node node, Value[] inputs, Value[] outputs) {
        LinearLayers.Linear l = byNode.get(node.label());
        if (l == null || inputs[0] == null || !inputs[0].isFloat()) return;
        Value x = inputs[0];
        if (lastSeen.get(l.input()) == x) return;
        lastSeen.put(l.input(), x);
        int rows = x.size() / l.inFeatures();
        boolean[] mask = rowMask != null && rowMask.length == rows ? rowMask : null;
        stats.computeIfAbsent(l.input(), k -> new ChannelStats(l.inFeatures(), withGram, sampleRows)).add(x.floats, rows, mask, parallel);
    }

    /** Statistics by input value name. */
    public Map<String, ChannelStats> stats() {
        return stats;
    }
}
