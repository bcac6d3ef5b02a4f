package dev.tamp.runtime.calib;

import dev.tamp.core.ir.Node;
import dev.tamp.runtime.exec.ExecutionListener;
import dev.tamp.runtime.value.Value;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Captures chosen values (e.g. each transformer block's input, for AWQ's per-block search) across calibration
 * batches, keeping at most {@code maxRows} rows (tokens) per value so memory stays bounded.
 */
public final class ValueCapture implements ExecutionListener {
    private final Set<String> names;
    private final int maxRows;
    private final Map<String, List<Value>> captured = new LinkedHashMap<>();
    private final Map<String, Integer> rows = new LinkedHashMap<>();

    public ValueCapture(Set<String> names, int maxRows) {
        this.names = Set.copyOf(names);
        this.maxRows = maxRows;
    }

    @Override
    public void onNode(Node node, Value[] inputs, Value[] outputs) {
        for (int i = 0; i < node.outputs().size() && i < outputs.length; i++) {
            String n = node.outputs().get(i);
            Value v = outputs[i];
            if (!names.contains(n) || v == null || v.rank() == 0) continue;
            int r = v.size() / v.shape[v.rank() - 1];
            int have = rows.getOrDefault(n, 0);
            if (have >= maxRows) continue;
            captured.computeIfAbsent(n, k -> new ArrayList<>()).add(v);
            rows.put(n, have + r);
        }
    }

    /** Captured batches per value name, in run order. */
    public Map<String, List<Value>> values() {
        return captured;
    }
}
