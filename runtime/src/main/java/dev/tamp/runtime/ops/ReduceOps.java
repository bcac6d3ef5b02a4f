package dev.tamp.runtime.ops;

import dev.tamp.core.ir.Node;
import dev.tamp.runtime.kernels.VectorMath;
import dev.tamp.runtime.value.Value;
import java.util.Map;

/** Reductions along axes (accumulated in double), Softmax and LayerNormalization (vectorised rows). */
final class ReduceOps {
    private ReduceOps() {}

    enum Kind { MEAN, SUM, MAX, SUM_SQUARE }

    static void register(Map<String, Op> ops) {
        ops.put("ReduceMean", (n, in, c) -> new Value[] {reduce(n, in, c, Kind.MEAN)});
        ops.put("ReduceSum", (n, in, c) -> new Value[] {reduce(n, in, c, Kind.SUM)});
        ops.put("ReduceMax", (n, in, c) -> new Value[] {reduce(n, in, c, Kind.MAX)});
        ops.put("ReduceSumSquare", (n, in, c) -> new Value[] {reduce(n, in, c, Kind.SUM_SQUARE)});
        ops.put("Softmax", (n, in, c) -> new Value[] {softmax(n, in, c)});
        ops.put("LayerNormalization", ReduceOps::layerNorm);
    }

    static Value reduce(Node n, Value[] in, OpContext c, Kind kind) {
        Value x = ElementwiseOps.floatInput(n, in, 0);
        long[] axes = ShapeOps.axes(n, in, 1);
        boolean keep = n.intAttr("keepdims", 1) != 0;
        int r = x.rank();
        boolean[] red = new boolean[r];
        if (axes == null || axes.length == 0) {
            if (n.intAttr("noop_with_empty_axes", 0) != 0) return x;
            java.util.Arrays.fill(red, true);
        } else {
            for (long a : axes) red[Shapes.axis((int) a, r)] = true;
        }
        // Fast path: reducing only trailing axes = contiguous rows.
        int firstReduced = r;
        for (int i = 0; i < r; i++) if (red[i]) { firstReduced = i; break; }
        boolean trailing = true;
        for (int i = firstReduced; i < r; i++) trailing &= red[i];
        int[] outShape = outShape(x.shape, red, keep);
        if (trailing) {
            int inner = 1;
            for (int i = firstReduced; i < r; i++) inner *= x.shape[i];
            int outer = x.size() / Math.max(1, inner);
            float[] o = new float[outer];
            for (int row = 0; row < outer; row++) {
                double acc = kind == Kind.MAX ? Double.NEGATIVE_INFINITY : 0;
                int base = row * inner;
                for (int i = 0; i < inner; i++) {
                    float v = x.floats[base + i];
                    acc = kind == Kind.MAX ? Math.max(acc, v) : acc + (kind == Kind.SUM_SQUARE ? (double) v * v : v);
                }
                o[row] = (float) (kind == Kind.MEAN ? acc / inner : acc);
            }
            return Value.floats(o, outShape);
        }
        int[] keptShape = outShape(x.shape, red, true);
        int outSize = Shapes.size(keptShape);
        double[] acc = new double[outSize];
        if (kind == Kind.MAX) java.util.Arrays.fill(acc, Double.NEGATIVE_INFINITY);
        int[] idx = Shapes.broadcastIndex(keptShape, x.shape);
        int count = x.size() / Math.max(1, outSize);
        for (int i = 0; i < x.size(); i++) {
            float v = x.floats[i];
            acc[idx[i]] = kind == Kind.MAX ? Math.max(acc[idx[i]], v) : acc[idx[i]] + (kind == Kind.SUM_SQUARE ? (double) v * v : v);
        }
        float[] o = new float[outSize];
        for (int i = 0; i < outSize; i++) o[i] = (float) (kind == Kind.MEAN ? acc[i] / count : acc[i]);
        return Value.floats(o, outShape);
    }

    private static int[] outShape(int[] shape, boolean[] red, boolean keep) {
        java.util.List<Integer> out = new java.util.ArrayList<>();
        for (int i = 0; i < shape.length; i++) {
            if (!red[i]) out.add(shape[i]);
            else if (keep) out.add(1);
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    static Value softmax(Node n, Value[] in, OpContext c) {
        Value x = ElementwiseOps.floatInput(n, in, 0);
        int r = x.rank();
        int axis = Shapes.axis((int) n.intAttr("axis", c.opset() >= 13 ? -1 : 1), r);
        if (c.opset() >= 13 && axis != r - 1) {
            // move the axis last, softmax, move back
            long[] perm = new long[r];
            for (int i = 0, j = 0; i < r; i++) if (i != axis) perm[j++] = i;
            perm[r - 1] = axis;
            Value t = ShapeOps.transpose(n, x, perm);
            Value s = softmaxLast(t, t.shape[r - 1], c);
            long[] inv = new long[r];
            for (int i = 0; i < r; i++) inv[(int) perm[i]] = i;
            return ShapeOps.transpose(n, s, inv);
        }
        int inner = 1;
        for (int i = axis; i < r; i++) inner *= x.shape[i]; // opset < 13: flatten from axis on
        return softmaxLast(x, inner, c);
    }

    private static Value softmaxLast(Value x, int inner, OpContext c) {
        float[] o = x.floats.clone();
        int rows = o.length / Math.max(1, inner);
        c.parallel().forRange(rows, 16, (from, to) -> VectorMath.softmaxRows(o, inner, from, to));
        return Value.floats(o, x.shape);
    }

    /** Outputs Y and, when asked for, the per-row Mean and InvStdDev (shape of X with the normalised axes set to 1). */
    static Value[] layerNorm(Node n, Value[] in, OpContext c) {
        Value x = ElementwiseOps.floatInput(n, in, 0);
        Value scale = ElementwiseOps.floatInput(n, in, 1);
        Value bias = in.length > 2 && in[2] != null ? ElementwiseOps.floatInput(n, in, 2) : null;
        int r = x.rank();
        int axis = Shapes.axis((int) n.intAttr("axis", -1), r);
        float eps = n.floatAttr("epsilon", 1e-5f);
        int inner = 1;
        for (int i = axis; i < r; i++) inner *= x.shape[i];
        if (scale.size() != inner || (bias != null && bias.size() != inner)) {
            throw OpContext.error(n, "scale/bias size does not match the normalised size " + inner);
        }
        int rows = x.size() / Math.max(1, inner);
        float[] o = new float[x.size()];
        float[] means = new float[rows], invStd = new float[rows];
        final int d = inner;
        final float[] b = bias == null ? null : bias.floats;
        c.parallel().forRange(rows, 16, (from, to) -> VectorMath.layerNormRows(x.floats, scale.floats, b, o, d, eps, from, to, means, invStd));
        int[] statShape = x.shape.clone();
        for (int i = axis; i < r; i++) statShape[i] = 1;
        return new Value[] {Value.floats(o, x.shape), Value.floats(means, statShape), Value.floats(invStd, statShape)};
    }
}
