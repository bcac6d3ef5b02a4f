package dev.tamp.runtime.value;

import dev.tamp.core.tensor.DType;
import dev.tamp.core.tensor.Tensor;
import java.util.Arrays;

/**
 * A tensor during execution. Floating types compute in float32 ({@code floats}); integer and boolean types
 * hold their values as longs ({@code longs}); {@code dtype} keeps the declared type so Cast, graph outputs and
 * type-dependent ops behave as ONNX says. Shapes are ints: one value is at most 2^31 elements.
 */
public final class Value {
    public final DType dtype;
    public final int[] shape;
    public final float[] floats;
    public final long[] longs;

    private Value(DType dtype, int[] shape, float[] floats, long[] longs) {
        this.dtype = dtype;
        this.shape = shape;
        this.floats = floats;
        this.longs = longs;
    }

    public static Value floats(float[] data, int... shape) {
        check(data.length, shape);
        return new Value(DType.F32, shape, data, null);
    }

    public static Value longs(DType dtype, long[] data, int... shape) {
        check(data.length, shape);
        if (dtype.isFloatingPoint()) throw new IllegalArgumentException("longs for " + dtype);
        return new Value(dtype, shape, null, data);
    }

    public static Value longs(long[] data, int... shape) {
        return longs(DType.I64, data, shape);
    }

    public static Value scalarLong(long v) {
        return longs(new long[] {v});
    }

    public static Value scalarFloat(float v) {
        return floats(new float[] {v});
    }

    private static void check(int n, int[] shape) {
        long c = 1;
        for (int d : shape) {
            if (d < 0) throw new IllegalArgumentException("negative dimension " + Arrays.toString(shape));
            c *= d;
        }
        if (c != n) throw new IllegalArgumentException(n + " values do not fill shape " + Arrays.toString(shape));
    }

    public boolean isFloat() { return floats != null; }

    public int size() { return isFloat() ? floats.length : longs.length; }

    public int rank() { return shape.length; }

    /** Element i as double (either storage). */
    public double get(int i) { return isFloat() ? floats[i] : longs[i]; }

    /** Element i as long (floats truncated toward zero). */
    public long getLong(int i) { return isFloat() ? (long) floats[i] : longs[i]; }

    public Value reshape(int... newShape) {
        check(size(), newShape);
        return new Value(dtype, newShape, floats, longs);
    }

    /** The same storage viewed with another dtype of the same storage kind (e.g. I32 → I64 after a Cast). */
    public Value withDtype(DType t) {
        return new Value(t, shape, floats, longs);
    }

    /** Converts a core tensor (any dtype) to a value. */
    public static Value of(Tensor t) {
        int[] shape = Arrays.stream(t.shape()).mapToInt(Math::toIntExact).toArray();
        if (t.dtype().isFloatingPoint()) return new Value(DType.F32, shape, t.toFloatArray(), null);
        return new Value(t.dtype(), shape, null, t.toLongArray());
    }

    /** Converts to a core tensor of this value's dtype. */
    public Tensor toTensor() {
        long[] s = Arrays.stream(shape).asLongStream().toArray();
        if (isFloat()) return Tensor.ofFloats(floats, s);
        if (dtype == DType.I64) return Tensor.ofLongs(longs, s);
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(longs.length * dtype.byteSize()).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (long v : longs) {
            switch (dtype.byteSize()) {
                case 1 -> b.put((byte) v);
                case 2 -> b.putShort((short) v);
                case 4 -> b.putInt((int) v);
                default -> b.putLong(v);
            }
        }
        b.flip();
        return Tensor.of(dtype, s, b);
    }

    @Override
    public String toString() {
        return dtype.displayName() + Arrays.toString(shape);
    }
}
