package dev.tamp.runtime.ops;

import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/** The operators of the default ONNX domain that the java backend implements. */
public final class OpRegistry {
    private static final Map<String, Op> OPS;

    static {
        Map<String, Op> m = new HashMap<>();
        ElementwiseOps.register(m);
        ShapeOps.register(m);
        ReduceOps.register(m);
        LinearOps.register(m);
        QuantizeOps.register(m);
        OPS = Collections.unmodifiableMap(m);
    }

    private OpRegistry() {}

    public static Op get(String domain, String opType) {
        if ("tamp".equals(domain)) return opType.equals("MatMulBias") ? LinearOps::matmulBias : null;
        if (domain != null && !domain.isEmpty() && !domain.equals("ai.onnx")) return null;
        return OPS.get(opType);
    }

    public static Set<String> supported() {
        return new TreeSet<>(OPS.keySet());
    }
}
