package dev.tamp.runtime.ops;

import dev.tamp.core.ir.Node;
import dev.tamp.runtime.kernels.LinearKernel;
import dev.tamp.runtime.kernels.Parallel;
import dev.tamp.runtime.value.Value;
import java.util.Map;

/**
 * What ops may use besides their inputs: the default-domain opset version (semantics changed across
 * versions), kernels prepared for weight operands, and the thread pool.
 */
public record OpContext(long opset, Map<String, LinearKernel> linearKernels, Parallel parallel) {
    /** A shape/type error in a node: exit 3 with the node and op named. */
    public static OpError error(Node n, String message) {
        return new OpError("node " + n.label() + " (" + n.opType() + "): " + message);
    }

    public LinearKernel kernelFor(String weightName) {
        return linearKernels.get(weightName);
    }

    static Value require(Node n, Value[] in, int i) {
        if (i >= in.length || in[i] == null) throw error(n, "missing input " + i);
        return in[i];
    }
}
