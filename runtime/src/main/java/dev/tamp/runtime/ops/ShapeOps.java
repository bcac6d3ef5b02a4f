package dev.tamp.runtime.ops;

import dev.tamp.core.ir.Attribute;
import dev.tamp.core.ir.Node;
import dev.tamp.core.tensor.DType;
import dev.tamp.runtime.value.Value;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/** Operators that move, reshape, select or create data without arithmetic. */
final class ShapeOps {
    private ShapeOps() {}

    static void register(Map<String, Op> ops) {
        ops.put("Constant", (n, in, c) -> new Value[] {constant(n)});
        ops.put("Shape", (n, in, c) -> new Value[] {shape(n, in)});
        ops.put("Reshape", (n, in, c) -> new Value[] {reshape(n, in)});
        ops.put("Flatten", (n, in, c) -> {
            Value x = OpContext.require(n, in, 0);
            long ax = n.intAttr("axis", 1);
            int axis = (int) (ax < 0 ? ax + x.rank() : ax); // Flatten's axis may equal the rank
            if (axis < 0 || axis > x.rank()) throw OpContext.error(n, "axis " + ax + " out of range");
            int outer = 1;
            for (int i = 0; i < axis; i++) outer *= x.shape[i];
            return new Value[] {x.reshape(outer, x.size() / Math.max(1, outer))};
        });
        ops.put("Transpose", (n, in, c) -> new Value[] {transpose(n, OpContext.require(n, in, 0), n.intsAttr("perm"))});
        ops.put("Unsqueeze", (n, in, c) -> new Value[] {unsqueeze(n, in, c)});
        ops.put("Squeeze", (n, in, c) -> new Value[] {squeeze(n, in, c)});
        ops.put("Concat", (n, in, c) -> new Value[] {concat(n, in)});
        ops.put("Slice", (n, in, c) -> new Value[] {slice(n, in, c)});
        ops.put("Gather", (n, in, c) -> new Value[] {gather(n, in)});
        ops.put("Expand", (n, in, c) -> new Value[] {expand(n, in)});
        ops.put("ConstantOfShape", (n, in, c) -> new Value[] {constantOfShape(n, in)});
        ops.put("Cast", (n, in, c) -> new Value[] {cast(n, in)});
        ops.put("Range", (n, in, c) -> new Value[] {range(n, in)});
    }

    static int[] ints(Value v) {
        int[] r = new int[v.size()];
        for (int i = 0; i < r.length; i++) r[i] = Math.toIntExact(v.getLong(i));
        return r;
    }

    static long[] longs(Value v) {
        long[] r = new long[v.size()];
        for (int i = 0; i < r.length; i++) r[i] = v.getLong(i);
        return r;
    }

    static Value constant(Node n) {
        Attribute a = n.attribute("value");
        if (a instanceof Attribute.TensorValue t) return Value.of(t.value());
        if (n.attribute("value_float") instanceof Attribute.Float f) return Value.floats(new float[] {f.value()});
        if (n.attribute("value_int") instanceof Attribute.Int i) return Value.longs(new long[] {i.value()});
        if (n.attribute("value_ints") instanceof Attribute.Ints is) return Value.longs(is.values().clone(), is.values().length);
        if (n.attribute("value_floats") instanceof Attribute.Floats fs) return Value.floats(fs.values().clone(), fs.values().length);
        throw OpContext.error(n, "Constant without a supported value attribute");
    }

    static Value shape(Node n, Value[] in) {
        Value x = OpContext.require(n, in, 0);
        int r = x.rank();
        int start = (int) n.intAttr("start", 0), end = (int) n.intAttr("end", r);
        start = Math.max(0, Math.min(r, start < 0 ? start + r : start));
        end = Math.max(0, Math.min(r, end < 0 ? end + r : end));
        long[] s = new long[Math.max(0, end - start)];
        for (int i = 0; i < s.length; i++) s[i] = x.shape[start + i];
        return Value.longs(s, s.length);
    }

    static Value reshape(Node n, Value[] in) {
        Value x = OpContext.require(n, in, 0);
        long[] spec = longs(OpContext.require(n, in, 1));
        boolean allowZero = n.intAttr("allowzero", 0) != 0;
        int[] out = new int[spec.length];
        int infer = -1;
        long known = 1;
        for (int i = 0; i < spec.length; i++) {
            long d = spec[i];
            if (d == 0 && !allowZero) {
                if (i >= x.rank()) throw OpContext.error(n, "0 in shape refers past input rank");
                d = x.shape[i];
            }
            if (d == -1) {
                if (infer >= 0) throw OpContext.error(n, "more than one -1 in shape");
                infer = i;
                continue;
            }
            if (d < 0) throw OpContext.error(n, "invalid dimension " + d);
            out[i] = (int) d;
            known *= d;
        }
        if (infer >= 0) {
            if (known == 0 || x.size() % known != 0) throw OpContext.error(n, "cannot infer -1 reshaping " + Arrays.toString(x.shape) + " to " + Arrays.toString(spec));
            out[infer] = (int) (x.size() / known);
        }
        if (Shapes.size(out) != x.size()) throw OpContext.error(n, "cannot reshape " + Arrays.toString(x.shape) + " to " + Arrays.toString(out));
        return x.reshape(out);
    }

    static Value transpose(Node n, Value x, long[] permAttr) {
        int r = x.rank();
        int[] perm = new int[r];
        if (permAttr == null) {
            for (int i = 0; i < r; i++) perm[i] = r - 1 - i;
        } else {
            if (permAttr.length != r) throw OpContext.error(n, "perm length " + permAttr.length + " != rank " + r);
            for (int i = 0; i < r; i++) perm[i] = (int) permAttr[i];
        }
        int[] outShape = new int[r];
        for (int i = 0; i < r; i++) outShape[i] = x.shape[perm[i]];
        int[] inStrides = Shapes.strides(x.shape);
        int[] st = new int[r];
        for (int i = 0; i < r; i++) st[i] = inStrides[perm[i]];
        int size = x.size();
        // Copy innermost output rows in one go when the innermost axis stays innermost.
        float[] fo = x.isFloat() ? new float[size] : null;
        long[] lo = x.isFloat() ? null : new long[size];
        int[] counter = new int[r];
        int src = 0;
        int inner = r == 0 ? 1 : outShape[r - 1];
        int innerStride = r == 0 ? 1 : st[r - 1];
        for (int dst = 0; dst < size; dst += inner) {
            if (fo != null) {
                if (innerStride == 1) System.arraycopy(x.floats, src, fo, dst, inner);
                else for (int j = 0, s = src; j < inner; j++, s += innerStride) fo[dst + j] = x.floats[s];
            } else {
                for (int j = 0, s = src; j < inner; j++, s += innerStride) lo[dst + j] = x.longs[s];
            }
            for (int d = r - 2; d >= 0; d--) {
                counter[d]++;
                src += st[d];
                if (counter[d] < outShape[d]) break;
                src -= st[d] * counter[d];
                counter[d] = 0;
            }
        }
        return fo != null ? Value.floats(fo, outShape) : Value.longs(x.dtype, lo, outShape);
    }

    /** Axes from the attribute (opset < 13) or the second input (opset ≥ 13). */
    static long[] axes(Node n, Value[] in, int inputIndex) {
        long[] a = n.intsAttr("axes");
        if (a != null) return a;
        if (in.length > inputIndex && in[inputIndex] != null) return longs(in[inputIndex]);
        return null;
    }

    static Value unsqueeze(Node n, Value[] in, OpContext c) {
        Value x = OpContext.require(n, in, 0);
        long[] axes = axes(n, in, 1);
        if (axes == null) throw OpContext.error(n, "Unsqueeze without axes");
        int r = x.rank() + axes.length;
        boolean[] added = new boolean[r];
        for (long a : axes) added[Shapes.axis((int) a, r)] = true;
        int[] out = new int[r];
        for (int i = 0, j = 0; i < r; i++) out[i] = added[i] ? 1 : x.shape[j++];
        return x.reshape(out);
    }

    static Value squeeze(Node n, Value[] in, OpContext c) {
        Value x = OpContext.require(n, in, 0);
        long[] axes = axes(n, in, 1);
        boolean[] drop = new boolean[x.rank()];
        if (axes == null) {
            for (int i = 0; i < x.rank(); i++) drop[i] = x.shape[i] == 1;
        } else {
            for (long a : axes) {
                int ax = Shapes.axis((int) a, x.rank());
                if (x.shape[ax] != 1) throw OpContext.error(n, "cannot squeeze axis " + a + " of size " + x.shape[ax]);
                drop[ax] = true;
            }
        }
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < x.rank(); i++) if (!drop[i]) out.add(x.shape[i]);
        return x.reshape(out.stream().mapToInt(Integer::intValue).toArray());
    }

    static Value concat(Node n, Value[] in) {
        if (in.length == 0) throw OpContext.error(n, "no inputs");
        Value first = OpContext.require(n, in, 0);
        int r = first.rank();
        int axis = Shapes.axis((int) n.intAttr("axis", 0), r);
        int[] out = first.shape.clone();
        out[axis] = 0;
        for (Value v : in) {
            if (v.rank() != r || v.isFloat() != first.isFloat()) throw OpContext.error(n, "inputs differ in rank or type");
            for (int d = 0; d < r; d++) if (d != axis && v.shape[d] != first.shape[d]) throw OpContext.error(n, "shapes differ off the concat axis");
            out[axis] += v.shape[axis];
        }
        int outer = 1;
        for (int d = 0; d < axis; d++) outer *= out[d];
        int innerAfter = 1;
        for (int d = axis + 1; d < r; d++) innerAfter *= out[d];
        int size = Shapes.size(out);
        float[] fo = first.isFloat() ? new float[size] : null;
        long[] lo = first.isFloat() ? null : new long[size];
        int rowOut = out[axis] * innerAfter;
        int offset = 0;
        for (Value v : in) {
            int chunk = v.shape[axis] * innerAfter;
            for (int o = 0; o < outer; o++) {
                if (fo != null) System.arraycopy(v.floats, o * chunk, fo, o * rowOut + offset, chunk);
                else System.arraycopy(v.longs, o * chunk, lo, o * rowOut + offset, chunk);
            }
            offset += chunk;
        }
        return fo != null ? Value.floats(fo, out) : Value.longs(first.dtype, lo, out);
    }

    static Value slice(Node n, Value[] in, OpContext c) {
        Value x = OpContext.require(n, in, 0);
        long[] starts, ends, axes, steps;
        if (c.opset() < 10 && n.intsAttr("starts") != null) {
            starts = n.intsAttr("starts");
            ends = n.intsAttr("ends");
            axes = n.intsAttr("axes");
            steps = null;
        } else {
            starts = longs(OpContext.require(n, in, 1));
            ends = longs(OpContext.require(n, in, 2));
            axes = in.length > 3 && in[3] != null ? longs(in[3]) : null;
            steps = in.length > 4 && in[4] != null ? longs(in[4]) : null;
        }
        int r = x.rank();
        int[] st = new int[r], step = new int[r], count = x.shape.clone();
        Arrays.fill(step, 1);
        for (int i = 0; i < starts.length; i++) {
            int ax = axes == null ? i : Shapes.axis((int) axes[i], r);
            long dim = x.shape[ax];
            long s = steps == null ? 1 : steps[i];
            if (s == 0) throw OpContext.error(n, "step 0");
            long b = starts[i], e = ends[i];
            if (b < 0) b += dim;
            if (e < 0) e += dim;
            if (s > 0) {
                b = Math.max(0, Math.min(dim, b));
                e = Math.max(0, Math.min(dim, e));
                count[ax] = (int) Math.max(0, (e - b + s - 1) / s);
            } else {
                b = Math.max(-1, Math.min(dim - 1, b));
                e = Math.max(-1, Math.min(dim - 1, e));
                count[ax] = (int) Math.max(0, (b - e + (-s) - 1) / (-s));
            }
            st[ax] = (int) b;
            step[ax] = (int) s;
        }
        int size = Shapes.size(count);
        int[] strides = Shapes.strides(x.shape);
        float[] fo = x.isFloat() ? new float[size] : null;
        long[] lo = x.isFloat() ? null : new long[size];
        int[] idx = new int[r];
        for (int k = 0; k < size; k++) {
            int src = 0;
            for (int d = 0; d < r; d++) src += (st[d] + idx[d] * step[d]) * strides[d];
            if (fo != null) fo[k] = x.floats[src]; else lo[k] = x.longs[src];
            for (int d = r - 1; d >= 0; d--) {
                if (++idx[d] < count[d]) break;
                idx[d] = 0;
            }
        }
        return fo != null ? Value.floats(fo, count) : Value.longs(x.dtype, lo, count);
    }

    static Value gather(Node n, Value[] in) {
        Value data = OpContext.require(n, in, 0), idx = OpContext.require(n, in, 1);
        if (idx.isFloat()) throw OpContext.error(n, "indices must be integers");
        int axis = Shapes.axis((int) n.intAttr("axis", 0), data.rank());
        int[] out = new int[data.rank() - 1 + idx.rank()];
        int o = 0;
        for (int d = 0; d < axis; d++) out[o++] = data.shape[d];
        for (int d : idx.shape) out[o++] = d;
        for (int d = axis + 1; d < data.rank(); d++) out[o++] = data.shape[d];
        int outer = 1;
        for (int d = 0; d < axis; d++) outer *= data.shape[d];
        int inner = 1;
        for (int d = axis + 1; d < data.rank(); d++) inner *= data.shape[d];
        int dim = data.shape[axis];
        int ni = idx.size();
        int size = Shapes.size(out);
        float[] fo = data.isFloat() ? new float[size] : null;
        long[] lo = data.isFloat() ? null : new long[size];
        for (int a = 0; a < outer; a++) {
            for (int i = 0; i < ni; i++) {
                long k = idx.longs[i];
                if (k < 0) k += dim;
                if (k < 0 || k >= dim) throw OpContext.error(n, "index " + idx.longs[i] + " out of range for dimension " + dim);
                int src = (int) ((a * (long) dim + k) * inner), dst = (a * ni + i) * inner;
                if (fo != null) System.arraycopy(data.floats, src, fo, dst, inner);
                else System.arraycopy(data.longs, src, lo, dst, inner);
            }
        }
        return fo != null ? Value.floats(fo, out) : Value.longs(data.dtype, lo, out);
    }

    static Value expand(Node n, Value[] in) {
        Value x = OpContext.require(n, in, 0);
        int[] target = ints(OpContext.require(n, in, 1));
        int[] shape = Shapes.broadcast(x.shape, target);
        if (shape == null) throw OpContext.error(n, "cannot expand " + Arrays.toString(x.shape) + " to " + Arrays.toString(target));
        int[] idx = Shapes.broadcastIndex(x.shape, shape);
        if (x.isFloat()) {
            float[] o = new float[idx.length];
            for (int i = 0; i < o.length; i++) o[i] = x.floats[idx[i]];
            return Value.floats(o, shape);
        }
        long[] o = new long[idx.length];
        for (int i = 0; i < o.length; i++) o[i] = x.longs[idx[i]];
        return Value.longs(x.dtype, o, shape);
    }

    static Value constantOfShape(Node n, Value[] in) {
        int[] shape = ints(OpContext.require(n, in, 0));
        Value v = n.attribute("value") instanceof Attribute.TensorValue t ? Value.of(t.value()) : Value.floats(new float[] {0f});
        int size = Shapes.size(shape);
        if (v.isFloat()) {
            float[] o = new float[size];
            Arrays.fill(o, v.floats[0]);
            return Value.floats(o, shape);
        }
        long[] o = new long[size];
        Arrays.fill(o, v.longs[0]);
        return Value.longs(v.dtype, o, shape);
    }

    static Value cast(Node n, Value[] in) {
        Value x = OpContext.require(n, in, 0);
        DType to = DType.fromOnnx((int) n.intAttr("to", 1));
        if (to == null) throw OpContext.error(n, "cast to unsupported type " + n.intAttr("to", 0));
        if (to.isFloatingPoint()) {
            if (x.isFloat()) {
                if (to == DType.F16 || to == DType.BF16) {
                    float[] o = new float[x.size()];
                    for (int i = 0; i < o.length; i++) {
                        o[i] = to == DType.F16 ? dev.tamp.core.tensor.Half.f16ToFloat(dev.tamp.core.tensor.Half.floatToF16(x.floats[i]))
                                : dev.tamp.core.tensor.Half.bf16ToFloat(dev.tamp.core.tensor.Half.floatToBf16(x.floats[i]));
                    }
                    return Value.floats(o, x.shape);
                }
                return x;
            }
            float[] o = new float[x.size()];
            for (int i = 0; i < o.length; i++) o[i] = x.longs[i];
            return Value.floats(o, x.shape);
        }
        long[] o = new long[x.size()];
        for (int i = 0; i < o.length; i++) {
            long v = x.isFloat() ? (long) x.floats[i] : x.longs[i];
            if (to == DType.BOOL) v = (x.isFloat() ? x.floats[i] != 0 : x.longs[i] != 0) ? 1 : 0;
            else v = wrap(v, to);
            o[i] = v;
        }
        return Value.longs(to, o, x.shape);
    }

    private static long wrap(long v, DType t) {
        return switch (t) {
            case I8 -> (byte) v;
            case U8 -> v & 0xFF;
            case I16 -> (short) v;
            case U16 -> v & 0xFFFF;
            case I32 -> (int) v;
            case U32 -> v & 0xFFFFFFFFL;
            default -> v;
        };
    }

    static Value range(Node n, Value[] in) {
        Value s = OpContext.require(n, in, 0), l = OpContext.require(n, in, 1), d = OpContext.require(n, in, 2);
        if (s.isFloat()) {
            double start = s.get(0), limit = l.get(0), delta = d.get(0);
            int count = (int) Math.max(0, Math.ceil((limit - start) / delta));
            float[] o = new float[count];
            for (int i = 0; i < count; i++) o[i] = (float) (start + i * delta);
            return Value.floats(o, count);
        }
        long start = s.getLong(0), limit = l.getLong(0), delta = d.getLong(0);
        if (delta == 0) throw OpContext.error(n, "delta 0");
        int count = (int) Math.max(0, (limit - start + delta + (delta > 0 ? -1 : 1)) / delta);
        long[] o = new long[count];
        for (int i = 0; i < count; i++) o[i] = start + i * delta;
        return Value.longs(s.dtype, o, count);
    }
}
