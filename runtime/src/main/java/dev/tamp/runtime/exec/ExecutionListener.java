package dev.tamp.runtime.exec;

import dev.tamp.core.ir.Node;
import dev.tamp.runtime.value.Value;

/**
 * Sees every node's inputs and outputs as the graph runs — the seam calibration observers, per-layer error
 * reports and activation capture hang on. Values must not be modified.
 */
@FunctionalInterface
public interface ExecutionListener {
    void onNode(Node node, Value[] inputs, Value[] outputs);

    ExecutionListener NONE = (n, i, o) -> { };
}
