package dev.tamp.runtime.ops;

import dev.tamp.core.ir.Node;
import dev.tamp.runtime.value.Value;

/** One ONNX operator: computes a node's outputs from its inputs (null for omitted optional inputs). */
@FunctionalInterface
public interface Op {
    Value[] run(Node node, Value[] in, OpContext ctx);
}
