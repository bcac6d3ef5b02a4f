package dev.tamp.runtime.ops;

import dev.tamp.core.ir.Node;
import dev.tamp.runtime.value.Value;
import java.util.Map;

/**
 * ONNX DequantizeLinear: y = (x − zero_point) · scale in float32, with the scale per tensor, per slice along
 * {@code axis} (opset 13), or per block of {@code block_size} along it (opset 21). It lets tamp run the QDQ
 * models it exports (and other tools') with the same arithmetic ONNX Runtime uses.
 */
final class QuantizeOps {
    private QuantizeOps() {}

    static void register(Map<String, Op> ops) {
        ops.put("DequantizeLinear", (n, in, c) -> new Value[] {dequantize(n, in)});
    }

    static Value dequantize(Node n, Value[] in) {
        Value x = OpContext.require(n, in, 0);
        Value s = ElementwiseOps.floatInput(n, in, 1);
        Value z = in.length > 2 ? in[2] : null;
        if (x.isFloat()) throw OpContext.error(n, "input must be integer codes, got " + x.dtype.displayName());
        if (z != null && z.isFloat()) throw OpContext.error(n, "float zero points (float8 inputs) are not supported");
        if (z != null && z.size() != s.size()) throw OpContext.error(n, "zero point has " + z.size() + " values, scale " + s.size());
        int r = x.shape.length, size = x.size();
        float[] y = new float[size];
        if (s.size() == 1) {
            float sc = s.floats[0];
            long zp = z == null ? 0 : z.getLong(0);
            for (int i = 0; i < size; i++) y[i] = (x.getLong(i) - zp) * sc;
            return Value.floats(y, x.shape);
        }
        if (r == 0) throw OpContext.error(n, "a scalar input needs a scalar scale");
        int axis = Shapes.axis((int) n.intAttr("axis", 1), r);
        int block = (int) n.intAttr("block_size", 0);
        int dim = x.shape[axis], inner = 1;
        for (int a = axis + 1; a < r; a++) inner *= x.shape[a];
        int groups = block > 0 ? (dim + block - 1) / block : dim;
        int expected = size / dim * groups;
        if (block == 0 && s.size() != dim || block > 0 && s.size() != expected) {
            throw OpContext.error(n, "scale has " + s.size() + " values; axis " + axis + " of " + java.util.Arrays.toString(x.shape)
                    + (block > 0 ? " in blocks of " + block + " needs " + expected : " needs " + dim));
        }
        for (int i = 0; i < size; i++) {
            int along = i / inner % dim, outer = i / (inner * dim), within = i % inner;
            int si = block == 0 ? along : (outer * groups + along / block) * inner + within;
            long zp = z == null ? 0 : z.getLong(si);
            y[i] = (x.getLong(i) - zp) * s.floats[si];
        }
        return Value.floats(y, x.shape);
    }
}
