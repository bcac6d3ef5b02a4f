package dev.tamp.runtime.ops;

import dev.tamp.core.ir.Node;
import dev.tamp.core.tensor.DType;
import dev.tamp.runtime.kernels.VectorMath;
import dev.tamp.runtime.value.Value;
import java.util.Map;
import java.util.function.DoubleUnaryOperator;

/** Unary and broadcasting binary element-wise operators, and Where. */
final class ElementwiseOps {
    private ElementwiseOps() {}

    interface FloatBinary { float apply(float a, float b); }

    interface LongBinary { long apply(long a, long b); }

    static void register(Map<String, Op> ops) {
        ops.put("Add", arithmetic(BroadcastLoops.Kind.ADD, (a, b) -> a + b));
        ops.put("Sub", arithmetic(BroadcastLoops.Kind.SUB, (a, b) -> a - b));
        ops.put("Mul", arithmetic(BroadcastLoops.Kind.MUL, (a, b) -> a * b));
        ops.put("Div", arithmetic(BroadcastLoops.Kind.DIV, (a, b) -> {
            if (b == 0) throw new ArithmeticException("integer division by zero");
            return a / b;
        }));
        ops.put("Pow", (n, in, c) -> new Value[] {pow(n, in)});
        ops.put("Max", variadic(binary(Math::max, Math::max)));
        ops.put("Min", variadic(binary(Math::min, Math::min)));
        ops.put("Sum", variadic(binary((a, b) -> a + b, (a, b) -> a + b)));
        ops.put("Equal", compare((a, b) -> a == b));
        ops.put("Greater", compare((a, b) -> a > b));
        ops.put("Less", compare((a, b) -> a < b));
        ops.put("GreaterOrEqual", compare((a, b) -> a >= b));
        ops.put("LessOrEqual", compare((a, b) -> a <= b));
        ops.put("And", logical((a, b) -> a & b));
        ops.put("Or", logical((a, b) -> a | b));
        ops.put("Not", (n, in, c) -> {
            Value x = OpContext.require(n, in, 0);
            long[] o = new long[x.size()];
            for (int i = 0; i < o.length; i++) o[i] = x.getLong(i) == 0 ? 1 : 0;
            return new Value[] {Value.longs(DType.BOOL, o, x.shape)};
        });
        ops.put("Sqrt", unary(Math::sqrt));
        ops.put("Exp", unary(Math::exp));
        ops.put("Log", unary(Math::log));
        ops.put("Tanh", unary(Math::tanh));
        ops.put("Abs", unary(Math::abs));
        ops.put("Round", unary(Math::rint)); // ONNX Round: halves to even, as rint
        ops.put("Clip", (n, in, c) -> new Value[] {clip(n, in)});
        ops.put("Neg", (n, in, c) -> {
            Value x = OpContext.require(n, in, 0);
            if (!x.isFloat()) {
                long[] o = new long[x.size()];
                for (int i = 0; i < o.length; i++) o[i] = -x.longs[i];
                return new Value[] {Value.longs(x.dtype, o, x.shape)};
            }
            float[] o = new float[x.size()];
            for (int i = 0; i < o.length; i++) o[i] = -x.floats[i];
            return new Value[] {Value.floats(o, x.shape)};
        });
        ops.put("Reciprocal", unary(v -> 1.0 / v));
        ops.put("Sigmoid", unary(v -> 1.0 / (1.0 + Math.exp(-v))));
        ops.put("Relu", unary(v -> v > 0 ? v : 0));
        ops.put("Erf", (n, in, c) -> {
            Value x = floatInput(n, in, 0);
            float[] o = new float[x.size()];
            c.parallel().forRange(o.length, 4096, (from, to) -> VectorMath.erf(x.floats, o, from, to));
            return new Value[] {Value.floats(o, x.shape)};
        });
        ops.put("Where", (n, in, c) -> new Value[] {where(n, in)});
        ops.put("Gelu", (n, in, c) -> {
            String approximate = n.stringAttr("approximate", "none");
            Value x = floatInput(n, in, 0);
            float[] o = new float[x.size()];
            if (approximate.equals("tanh")) {
                // ONNX Gelu (opset 20) approximate="tanh", PyTorch's gelu_pytorch_tanh (Gemma): ½x(1 + tanh(√(2/π)(x + 0.044715x³)))
                c.parallel().forRange(o.length, 4096, (from, to) -> {
                    for (int i = from; i < to; i++) {
                        double v = x.floats[i];
                        o[i] = (float) (0.5 * v * (1 + Math.tanh(0.7978845608028654 * (v + 0.044715 * v * v * v))));
                    }
                });
                return new Value[] {Value.floats(o, x.shape)};
            }
            if (!approximate.equals("none")) throw OpContext.error(n, "Gelu approximate=" + approximate + " is not supported (none, tanh)");
            c.parallel().forRange(o.length, 4096, (from, to) -> VectorMath.gelu(x.floats, o, from, to));
            return new Value[] {Value.floats(o, x.shape)};
        });
        ops.put("Identity", (n, in, c) -> new Value[] {OpContext.require(n, in, 0)});
    }

    /** Clip: bounds from inputs 1 and 2 (opset ≥ 11, either may be absent) or the min/max attributes (older opsets). */
    static Value clip(Node n, Value[] in) {
        Value x = OpContext.require(n, in, 0);
        Value lo = in.length > 1 ? in[1] : null, hi = in.length > 2 ? in[2] : null;
        if (!x.isFloat()) {
            long a = lo == null ? Long.MIN_VALUE : lo.getLong(0), b = hi == null ? Long.MAX_VALUE : hi.getLong(0);
            long[] o = new long[x.size()];
            for (int i = 0; i < o.length; i++) o[i] = Math.min(b, Math.max(a, x.longs[i]));
            return Value.longs(x.dtype, o, x.shape);
        }
        float a = lo != null ? floatInput(n, in, 1).floats[0] : n.floatAttr("min", Float.NEGATIVE_INFINITY);
        float b = hi != null ? floatInput(n, in, 2).floats[0] : n.floatAttr("max", Float.POSITIVE_INFINITY);
        float[] o = new float[x.size()];
        for (int i = 0; i < o.length; i++) {
            float v = x.floats[i];
            o[i] = Float.isNaN(v) ? v : Math.min(b, Math.max(a, v));
        }
        return Value.floats(o, x.shape);
    }

    static Value floatInput(Node n, Value[] in, int i) {
        Value v = OpContext.require(n, in, i);
        if (!v.isFloat()) throw OpContext.error(n, "input " + i + " must be floating point, got " + v.dtype.displayName());
        return v;
    }

    /**
     * Add/Sub/Mul/Div: floats through {@link BroadcastLoops} (one monomorphic loop per op, contiguous inner
     * runs), integers through the generic path.
     */
    static Op arithmetic(BroadcastLoops.Kind kind, LongBinary l) {
        Op generic = binary(null, l);
        return (n, in, c) -> {
            Value a = OpContext.require(n, in, 0), b = OpContext.require(n, in, 1);
            if (!a.isFloat() && !b.isFloat()) return generic.run(n, in, c);
            if (a.isFloat() != b.isFloat()) throw OpContext.error(n, "mixes " + a.dtype.displayName() + " and " + b.dtype.displayName());
            int[] shape = outShape(n, a, b);
            return new Value[] {Value.floats(BroadcastLoops.apply(kind, a.floats, a.shape, b.floats, b.shape, shape, c.parallel()), shape)};
        };
    }

    /** An n-ary op folded left over a binary one (Max, Min, Sum take one or more inputs). */
    static Op variadic(Op binary) {
        return (n, in, c) -> {
            Value acc = OpContext.require(n, in, 0);
            for (int i = 1; i < in.length; i++) acc = binary.run(n, new Value[] {acc, OpContext.require(n, in, i)}, c)[0];
            return new Value[] {acc};
        };
    }

    static Op unary(DoubleUnaryOperator f) {
        return (n, in, c) -> {
            Value x = floatInput(n, in, 0);
            float[] o = new float[x.size()];
            for (int i = 0; i < o.length; i++) o[i] = (float) f.applyAsDouble(x.floats[i]);
            return new Value[] {Value.floats(o, x.shape)};
        };
    }

    static int[] outShape(Node n, Value a, Value b) {
        int[] s = Shapes.broadcast(a.shape, b.shape);
        if (s == null) {
            throw OpContext.error(n, "shapes " + java.util.Arrays.toString(a.shape) + " and " + java.util.Arrays.toString(b.shape) + " do not broadcast");
        }
        return s;
    }

    static Op binary(FloatBinary f, LongBinary l) {
        return (n, in, c) -> {
            Value a = OpContext.require(n, in, 0), b = OpContext.require(n, in, 1);
            int[] shape = outShape(n, a, b);
            int size = Shapes.size(shape);
            if (a.isFloat() || b.isFloat()) {
                if (a.isFloat() != b.isFloat()) throw OpContext.error(n, "mixes " + a.dtype.displayName() + " and " + b.dtype.displayName());
                float[] o = new float[size];
                float[] x = a.floats, y = b.floats;
                if (x.length == size && y.length == size) {
                    for (int i = 0; i < size; i++) o[i] = f.apply(x[i], y[i]);
                } else if (x.length == size && y.length == 1) {
                    float s = y[0];
                    for (int i = 0; i < size; i++) o[i] = f.apply(x[i], s);
                } else if (y.length == size && x.length == 1) {
                    float s = x[0];
                    for (int i = 0; i < size; i++) o[i] = f.apply(s, y[i]);
                } else if (x.length == size && isTrailing(b.shape, shape)) {
                    int m = y.length;
                    for (int i = 0; i < size; i++) o[i] = f.apply(x[i], y[i % m]);
                } else if (y.length == size && isTrailing(a.shape, shape)) {
                    int m = x.length;
                    for (int i = 0; i < size; i++) o[i] = f.apply(x[i % m], y[i]);
                } else {
                    int[] ia = Shapes.broadcastIndex(a.shape, shape), ib = Shapes.broadcastIndex(b.shape, shape);
                    for (int i = 0; i < size; i++) o[i] = f.apply(x[ia[i]], y[ib[i]]);
                }
                return new Value[] {Value.floats(o, shape)};
            }
            long[] o = new long[size];
            int[] ia = Shapes.broadcastIndex(a.shape, shape), ib = Shapes.broadcastIndex(b.shape, shape);
            try {
                for (int i = 0; i < size; i++) o[i] = l.apply(a.longs[ia[i]], b.longs[ib[i]]);
            } catch (ArithmeticException e) {
                throw OpContext.error(n, e.getMessage());
            }
            return new Value[] {Value.longs(a.dtype, o, shape)};
        };
    }

    /** True when small's shape is a suffix of full's shape (leading 1s allowed): row-wise broadcast. */
    static boolean isTrailing(int[] small, int[] full) {
        int s = small.length;
        int start = 0;
        while (start < s && small[start] == 1) start++;
        int k = s - start;
        if (k > full.length) return false;
        for (int i = 0; i < k; i++) if (small[start + i] != full[full.length - k + i]) return false;
        return true;
    }

    interface Comparison { boolean test(double a, double b); }

    static Op compare(Comparison p) {
        return (n, in, c) -> {
            Value a = OpContext.require(n, in, 0), b = OpContext.require(n, in, 1);
            int[] shape = outShape(n, a, b);
            int size = Shapes.size(shape);
            int[] ia = Shapes.broadcastIndex(a.shape, shape), ib = Shapes.broadcastIndex(b.shape, shape);
            long[] o = new long[size];
            boolean integral = !a.isFloat() && !b.isFloat();
            for (int i = 0; i < size; i++) {
                boolean r = integral ? p.test(a.longs[ia[i]], b.longs[ib[i]]) : p.test(a.get(ia[i]), b.get(ib[i]));
                o[i] = r ? 1 : 0;
            }
            return new Value[] {Value.longs(DType.BOOL, o, shape)};
        };
    }

    static Op logical(LongBinary f) {
        return (n, in, c) -> {
            Value a = OpContext.require(n, in, 0), b = OpContext.require(n, in, 1);
            int[] shape = outShape(n, a, b);
            int size = Shapes.size(shape);
            int[] ia = Shapes.broadcastIndex(a.shape, shape), ib = Shapes.broadcastIndex(b.shape, shape);
            long[] o = new long[size];
            for (int i = 0; i < size; i++) o[i] = f.apply(a.getLong(ia[i]) != 0 ? 1 : 0, b.getLong(ib[i]) != 0 ? 1 : 0);
            return new Value[] {Value.longs(DType.BOOL, o, shape)};
        };
    }

    static Value pow(Node n, Value[] in) {
        Value a = OpContext.require(n, in, 0), b = OpContext.require(n, in, 1);
        int[] shape = outShape(n, a, b);
        int size = Shapes.size(shape);
        if (!a.isFloat()) {
            int[] ia = Shapes.broadcastIndex(a.shape, shape), ib = Shapes.broadcastIndex(b.shape, shape);
            // integer base: the result keeps the base's type
            long[] o = new long[size];
            for (int i = 0; i < size; i++) o[i] = (long) Math.pow(a.longs[ia[i]], b.get(ib[i]));
            return Value.longs(a.dtype, o, shape);
        }
        float[] o = new float[size];
        if (b.size() == 1 && b.get(0) == 2.0 && a.size() == size) {
            // the LayerNorm pattern x^2: exact square, as other runtimes compute it
            for (int i = 0; i < size; i++) {
                float v = a.floats[i];
                o[i] = v * v;
            }
        } else {
            int[] ia = Shapes.broadcastIndex(a.shape, shape), ib = Shapes.broadcastIndex(b.shape, shape);
            for (int i = 0; i < size; i++) o[i] = (float) Math.pow(a.floats[ia[i]], b.get(ib[i]));
        }
        return Value.floats(o, shape);
    }

    static Value where(Node n, Value[] in) {
        Value cond = OpContext.require(n, in, 0), x = OpContext.require(n, in, 1), y = OpContext.require(n, in, 2);
        int[] s1 = Shapes.broadcast(cond.shape, x.shape);
        int[] shape = s1 == null ? null : Shapes.broadcast(s1, y.shape);
        if (shape == null) throw OpContext.error(n, "shapes do not broadcast");
        if (x.isFloat() != y.isFloat()) throw OpContext.error(n, "branches have different types");
        int size = Shapes.size(shape);
        int[] ic = Shapes.broadcastIndex(cond.shape, shape), ix = Shapes.broadcastIndex(x.shape, shape), iy = Shapes.broadcastIndex(y.shape, shape);
        if (x.isFloat()) {
            float[] o = new float[size];
            for (int i = 0; i < size; i++) o[i] = cond.getLong(ic[i]) != 0 ? x.floats[ix[i]] : y.floats[iy[i]];
            return Value.floats(o, shape);
        }
        long[] o = new long[size];
        for (int i = 0; i < size; i++) o[i] = cond.getLong(ic[i]) != 0 ? x.longs[ix[i]] : y.longs[iy[i]];
        return Value.longs(x.dtype, o, shape);
    }
}
