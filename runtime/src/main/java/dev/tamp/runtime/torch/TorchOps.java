package dev.tamp.runtime.torch;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import dev.tamp.core.ir.Node;
import dev.tamp.core.tensor.DType;
import dev.tamp.runtime.kernels.Parallel;
import dev.tamp.runtime.ops.Op;
import dev.tamp.runtime.ops.OpContext;
import dev.tamp.runtime.ops.OpRegistry;
import dev.tamp.runtime.value.Value;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;

/**
 * ONNX operators on libtorch tensors. The hot ones (products, element-wise arithmetic, activations,
 * normalisations, reshaping, embedding lookup) run as torch ops on the device; rare ones and shape arithmetic
 * go through the java op on downloaded values (correct everywhere, fast where it matters).
 */
final class TorchOps {
    private static final Set<String> NATIVE = Set.of("MatMul", "Gemm", "Add", "Sub", "Mul", "Div", "Pow", "Sqrt", "Exp", "Log",
            "Tanh", "Erf", "Sigmoid", "Relu", "Neg", "Abs", "Reciprocal", "Softmax", "ReduceMean", "ReduceSum", "LayerNormalization",
            "Transpose", "Reshape", "Unsqueeze", "Squeeze", "Concat", "Gather", "Where", "Identity", "Shape", "Cast");

    private TorchOps() {}

    static boolean supports(String op) {
        return NATIVE.contains(op);
    }

    static NDArray upload(NDManager m, Value v) {
        Shape s = new Shape(Arrays.stream(v.shape).asLongStream().toArray());
        if (v.isFloat()) return m.create(v.floats, s);
        if (v.dtype == DType.BOOL) {
            boolean[] b = new boolean[v.size()];
            for (int i = 0; i < b.length; i++) b[i] = v.longs[i] != 0;
            return m.create(b, s);
        }
        return m.create(v.longs, s);
    }

    static Value download(Object o) {
        if (o == null) return null;
        if (o instanceof Value v) return v;
        NDArray a = (NDArray) o;
        int[] shape = Arrays.stream(a.getShape().getShape()).mapToInt(Math::toIntExact).toArray();
        DataType t = a.getDataType();
        if (t == DataType.BOOLEAN) {
            boolean[] b = a.toBooleanArray();
            long[] l = new long[b.length];
            for (int i = 0; i < b.length; i++) l[i] = b[i] ? 1 : 0;
            return Value.longs(DType.BOOL, l, shape);
        }
        if (t.isFloating()) return Value.floats(a.toType(DataType.FLOAT32, false).toFloatArray(), shape);
        return Value.longs(a.toType(DataType.INT64, false).toLongArray(), shape);
    }

    private static NDArray t(NDManager m, Object o) {
        return o instanceof NDArray a ? a : upload(m, (Value) o);
    }

    private static int[] ints(Object o) {
        Value v = download(o);
        int[] r = new int[v.size()];
        for (int i = 0; i < r.length; i++) r[i] = Math.toIntExact(v.getLong(i));
        return r;
    }

    static Object[] run(Node n, Object[] in, NDManager m, long opset) {
        if (!NATIVE.contains(n.opType())) return javaFallback(n, in, m, opset);
        switch (n.opType()) {
            case "MatMul":
                return one(t(m, in[0]).matMul(t(m, in[1])));
            case "Gemm": {
                NDArray a = t(m, in[0]), b = t(m, in[1]);
                if (n.intAttr("transA", 0) != 0) a = a.transpose();
                if (n.intAttr("transB", 0) != 0) b = b.transpose();
                NDArray y = a.matMul(b);
                float alpha = n.floatAttr("alpha", 1f), beta = n.floatAttr("beta", 1f);
                if (alpha != 1f) y = y.mul(alpha);
                if (in.length > 2 && in[2] != null && beta != 0f) y = y.add(beta == 1f ? t(m, in[2]) : t(m, in[2]).mul(beta));
                return one(y);
            }
            case "Add": return one(t(m, in[0]).add(t(m, in[1])));
            case "Sub": return one(t(m, in[0]).sub(t(m, in[1])));
            case "Mul": return one(t(m, in[0]).mul(t(m, in[1])));
            case "Div": {
                NDArray a = t(m, in[0]);
                if (!a.getDataType().isFloating()) return javaFallback(n, in, m, opset);
                return one(a.div(t(m, in[1])));
            }
            case "Pow": {
                NDArray a = t(m, in[0]);
                Object e = in[1];
                if (e instanceof Value v && v.size() == 1 && v.get(0) == 2.0) return one(a.mul(a));
                return one(a.pow(t(m, e)));
            }
            case "Sqrt": return one(t(m, in[0]).sqrt());
            case "Exp": return one(t(m, in[0]).exp());
            case "Log": return one(t(m, in[0]).log());
            case "Tanh": return one(t(m, in[0]).tanh());
            case "Erf": return one(t(m, in[0]).erf());
            case "Sigmoid": return one(Activation.sigmoid(t(m, in[0])));
            case "Relu": return one(Activation.relu(t(m, in[0])));
            case "Neg": return one(t(m, in[0]).neg());
            case "Abs": return one(t(m, in[0]).abs());
            case "Reciprocal": return one(t(m, in[0]).pow(-1));
            case "Identity": return one(in[0]);
            case "Softmax": {
                NDArray x = t(m, in[0]);
                int r = x.getShape().dimension();
                int axis = (int) n.intAttr("axis", opset >= 13 ? -1 : 1);
                if (axis < 0) axis += r;
                if (opset >= 13 || axis == r - 1) return one(x.softmax(axis));
                Shape s = x.getShape();
                long outer = 1;
                for (int i = 0; i < axis; i++) outer *= s.get(i);
                return one(x.reshape(outer, -1).softmax(1).reshape(s));
            }
            case "ReduceMean":
            case "ReduceSum": {
                NDArray x = t(m, in[0]);
                long[] axes = n.intsAttr("axes");
                if (axes == null && in.length > 1 && in[1] != null) axes = Arrays.stream(ints(in[1])).asLongStream().toArray();
                int r = x.getShape().dimension();
                int[] ax = axes == null ? java.util.stream.IntStream.range(0, r).toArray()
                        : Arrays.stream(axes).mapToInt(a -> (int) (a < 0 ? a + r : a)).toArray();
                boolean keep = n.intAttr("keepdims", 1) != 0;
                return one(n.opType().equals("ReduceMean") ? x.mean(ax, keep) : x.sum(ax, keep));
            }
            case "LayerNormalization": {
                NDArray x = t(m, in[0]);
                int r = x.getShape().dimension();
                int axis = (int) n.intAttr("axis", -1);
                if (axis < 0) axis += r;
                int[] ax = java.util.stream.IntStream.range(axis, r).toArray();
                NDArray mu = x.mean(ax, true);
                NDArray d = x.sub(mu);
                NDArray var = d.mul(d).mean(ax, true);
                NDArray inv = var.add(n.floatAttr("epsilon", 1e-5f)).sqrt().pow(-1);
                NDArray y = d.mul(inv).mul(t(m, in[1]));
                if (in.length > 2 && in[2] != null) y = y.add(t(m, in[2]));
                return new Object[] {y, mu, inv};
            }
            case "Transpose": {
                NDArray x = t(m, in[0]);
                long[] perm = n.intsAttr("perm");
                return one(perm == null ? x.transpose() : x.transpose(Arrays.stream(perm).mapToInt(p -> (int) p).toArray()));
            }
            case "Reshape": {
                if (!(in[0] instanceof NDArray x)) return javaFallback(n, in, m, opset);
                int[] spec = ints(in[1]);
                long[] shape = new long[spec.length];
                for (int i = 0; i < spec.length; i++) shape[i] = spec[i] == 0 && n.intAttr("allowzero", 0) == 0 ? x.getShape().get(i) : spec[i];
                return one(x.reshape(new Shape(shape)));
            }
            case "Unsqueeze": {
                if (!(in[0] instanceof NDArray x)) return javaFallback(n, in, m, opset);
                long[] axes = n.intsAttr("axes");
                if (axes == null) axes = Arrays.stream(ints(in[1])).asLongStream().toArray();
                int r = x.getShape().dimension() + axes.length;
                int[] sorted = Arrays.stream(axes).mapToInt(a -> (int) (a < 0 ? a + r : a)).sorted().toArray();
                for (int a : sorted) x = x.expandDims(a);
                return one(x);
            }
            case "Squeeze": {
                if (!(in[0] instanceof NDArray x)) return javaFallback(n, in, m, opset);
                long[] axes = n.intsAttr("axes");
                if (axes == null && in.length > 1 && in[1] != null) axes = Arrays.stream(ints(in[1])).asLongStream().toArray();
                if (axes == null) return one(x.squeeze());
                int r = x.getShape().dimension();
                return one(x.squeeze(Arrays.stream(axes).mapToInt(a -> (int) (a < 0 ? a + r : a)).toArray()));
            }
            case "Concat": {
                boolean floats = Arrays.stream(in).anyMatch(o -> o instanceof NDArray a && a.getDataType().isFloating());
                if (!floats) return javaFallback(n, in, m, opset);
                NDList list = new NDList();
                for (Object o : in) list.add(t(m, o));
                int r = list.get(0).getShape().dimension();
                int axis = (int) n.intAttr("axis", 0);
                return one(NDArrays.concat(list, axis < 0 ? axis + r : axis));
            }
            case "Gather": {
                if (!(in[0] instanceof NDArray data) || n.intAttr("axis", 0) != 0) return javaFallback(n, in, m, opset);
                Value idx = download(in[1]);
                long rows = data.getShape().get(0);
                long[] flat = new long[idx.size()];
                for (int i = 0; i < flat.length; i++) {
                    long k = idx.getLong(i);
                    flat[i] = k < 0 ? k + rows : k;
                    if (flat[i] < 0 || flat[i] >= rows) throw new IllegalArgumentException("index " + k + " out of range for " + rows + " rows");
                }
                NDArray picked = data.get(m.create(flat));
                long[] shape = new long[idx.rank() + data.getShape().dimension() - 1];
                for (int i = 0; i < idx.rank(); i++) shape[i] = idx.shape[i];
                for (int i = 1; i < data.getShape().dimension(); i++) shape[idx.rank() + i - 1] = data.getShape().get(i);
                return one(picked.reshape(new Shape(shape)));
            }
            case "Where": {
                if (!(in[1] instanceof NDArray) && !(in[2] instanceof NDArray)) return javaFallback(n, in, m, opset);
                NDArray c = t(m, in[0]), x = t(m, in[1]), y = t(m, in[2]);
                if (c.getDataType() != DataType.BOOLEAN) c = c.toType(DataType.BOOLEAN, false);
                // libtorch's where through DJL does not broadcast: expand all three to the common shape first
                int[] s = dev.tamp.runtime.ops.Shapes.broadcast(dims(c), dev.tamp.runtime.ops.Shapes.broadcast(dims(x), dims(y)));
                if (s == null) throw new IllegalArgumentException("Where operands do not broadcast");
                Shape shape = new Shape(Arrays.stream(s).asLongStream().toArray());
                return one(NDArrays.where(c.broadcast(shape), x.broadcast(shape), y.broadcast(shape)));
            }
            case "Shape": {
                if (!(in[0] instanceof NDArray x)) return javaFallback(n, in, m, opset);
                long[] s = x.getShape().getShape();
                return one(Value.longs(s.clone(), s.length));
            }
            case "Cast": {
                DType to = DType.fromOnnx((int) n.intAttr("to", 1));
                if (in[0] instanceof NDArray x && to != null && to.isFloatingPoint() && to != DType.F16 && to != DType.BF16) {
                    return one(x.getDataType() == DataType.FLOAT32 ? x : x.toType(DataType.FLOAT32, false));
                }
                if (in[0] instanceof Value v && to == DType.F32) return one(upload(m, ShapeCast.toFloat(v)));
                return javaFallback(n, in, m, opset);
            }
            default:
                return javaFallback(n, in, m, opset);
        }
    }

    private static int[] dims(NDArray a) {
        return Arrays.stream(a.getShape().getShape()).mapToInt(Math::toIntExact).toArray();
    }

    private static Object[] one(Object o) {
        return new Object[] {o};
    }

    /** Runs the java op on downloaded inputs; float outputs go back to the device. */
    static Object[] javaFallback(Node n, Object[] in, NDManager m, long opset) {
        Op op = OpRegistry.get(n.domain(), n.opType());
        if (op == null) throw new dev.tamp.core.error.UnsupportedModelException("node " + n.label() + ": unsupported op " + n.opType());
        Value[] vin = Arrays.stream(in).map(TorchOps::download).toArray(Value[]::new);
        Value[] out = op.run(n, vin, new OpContext(opset, Map.of(), Parallel.shared()));
        Object[] r = new Object[out.length];
        for (int i = 0; i < out.length; i++) r[i] = out[i] != null && out[i].isFloat() ? upload(m, out[i]) : out[i];
        return r;
    }

    /** Integer value → float value (Cast to float32 of shape-derived integers). */
    private static final class ShapeCast {
        static Value toFloat(Value v) {
            if (v.isFloat()) return v;
            float[] f = new float[v.size()];
            for (int i = 0; i < f.length; i++) f[i] = v.longs[i];
            return Value.floats(f, v.shape);
        }
    }
}
