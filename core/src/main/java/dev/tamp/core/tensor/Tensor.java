package dev.tamp.core.tensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * A dense tensor: element type, shape and little-endian bytes. The bytes may be a heap buffer or a
 * memory-mapped region of a checkpoint file, so a model larger than the heap is only paged in when a
 * tensor is read. Tensors are immutable views: {@link #data()} hands out a fresh read-only duplicate.
 * One tensor is limited to 2 GiB of bytes (a ByteBuffer); whole models are not.
 */
public final class Tensor {
    private final DType dtype;
    private final long[] shape;
    private final ByteBuffer data;

    private Tensor(DType dtype, long[] shape, ByteBuffer data) {
        this.dtype = dtype;
        this.shape = shape;
        this.data = data;
    }

    /** Wraps bytes; the buffer's remaining bytes must be exactly numel × element size. */
    public static Tensor of(DType dtype, long[] shape, ByteBuffer bytes) {
        long n = numel(shape);
        long expected = n * dtype.byteSize();
        if (bytes.remaining() != expected) {
            throw new IllegalArgumentException("tensor of shape " + Arrays.toString(shape) + " " + dtype.displayName()
                    + " needs " + expected + " bytes, got " + bytes.remaining());
        }
        ByteBuffer view = bytes.slice().order(ByteOrder.LITTLE_ENDIAN).asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
        return new Tensor(dtype, shape.clone(), view);
    }

    public static Tensor ofFloats(float[] values, long... shape) {
        checkCount(values.length, shape);
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        return of(DType.F32, shape, b);
    }

    public static Tensor ofLongs(long[] values, long... shape) {
        checkCount(values.length, shape);
        ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        b.asLongBuffer().put(values);
        return of(DType.I64, shape, b);
    }

    public static Tensor ofInts(int[] values, long... shape) {
        checkCount(values.length, shape);
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asIntBuffer().put(values);
        return of(DType.I32, shape, b);
    }

    public static Tensor ofBytes(DType dtype, byte[] values, long... shape) {
        return of(dtype, shape, ByteBuffer.wrap(values));
    }

    private static void checkCount(int count, long[] shape) {
        if (numel(shape) != count) {
            throw new IllegalArgumentException(count + " values do not fill shape " + Arrays.toString(shape));
        }
    }

    public static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) throw new IllegalArgumentException("negative dimension in " + Arrays.toString(shape));
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    public DType dtype() { return dtype; }

    public long[] shape() { return shape.clone(); }

    public int rank() { return shape.length; }

    public long dim(int i) { return shape[i < 0 ? shape.length + i : i]; }

    public long numel() { return numel(shape); }

    public long byteSize() { return data.capacity(); }

    /** A fresh read-only little-endian view of the bytes, positioned at 0. */
    public ByteBuffer data() {
        return data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Copies the raw bytes. */
    public byte[] toByteArray() {
        byte[] out = new byte[Math.toIntExact(byteSize())];
        data().get(out);
        return out;
    }

    /** Element {@code i} (flat, row-major) converted to float. */
    public float getFloat(long i) {
        int at = Math.toIntExact(i * dtype.byteSize());
        return switch (dtype) {
            case F32 -> data.getFloat(at);
            case F16 -> Half.f16ToFloat(data.getShort(at));
            case BF16 -> Half.bf16ToFloat(data.getShort(at));
            case F64 -> (float) data.getDouble(at);
            case I8 -> data.get(at);
            case U8, BOOL -> data.get(at) & 0xFF;
            case I16 -> data.getShort(at);
            case U16 -> data.getShort(at) & 0xFFFF;
            case I32 -> data.getInt(at);
            case U32 -> data.getInt(at) & 0xFFFFFFFFL;
            case I64, U64 -> data.getLong(at);
        };
    }

    /** Element {@code i} (flat, row-major) converted to long (floating types are truncated toward zero). */
    public long getLong(long i) {
        int at = Math.toIntExact(i * dtype.byteSize());
        return switch (dtype) {
            case I64, U64 -> data.getLong(at);
            case I32 -> data.getInt(at);
            case U32 -> data.getInt(at) & 0xFFFFFFFFL;
            case I16 -> data.getShort(at);
            case U16 -> data.getShort(at) & 0xFFFF;
            case I8 -> data.get(at);
            case U8, BOOL -> data.get(at) & 0xFF;
            default -> (long) getFloat(i);
        };
    }

    /** All elements converted to float (copy). */
    public float[] toFloatArray() {
        int n = Math.toIntExact(numel());
        float[] out = new float[n];
        if (dtype == DType.F32) {
            data().asFloatBuffer().get(out);
            return out;
        }
        for (int i = 0; i < n; i++) out[i] = getFloat(i);
        return out;
    }

    /** All elements converted to long (copy). */
    public long[] toLongArray() {
        int n = Math.toIntExact(numel());
        long[] out = new long[n];
        if (dtype == DType.I64) {
            data().asLongBuffer().get(out);
            return out;
        }
        for (int i = 0; i < n; i++) out[i] = getLong(i);
        return out;
    }

    /** The same bytes seen with another shape of equal element count. */
    public Tensor reshape(long... newShape) {
        if (numel(newShape) != numel()) {
            throw new IllegalArgumentException("cannot reshape " + Arrays.toString(shape) + " to " + Arrays.toString(newShape));
        }
        return new Tensor(dtype, newShape.clone(), data);
    }

    /** Copies this tensor onto the heap (detaching it from any mapped file). */
    public Tensor copy() {
        ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(byteSize())).order(ByteOrder.LITTLE_ENDIAN);
        b.put(data());
        b.flip();
        return of(dtype, shape, b);
    }

    /** True when both have the same dtype, shape and bytes. */
    public boolean contentEquals(Tensor other) {
        return dtype == other.dtype && Arrays.equals(shape, other.shape) && data().equals(other.data());
    }

    /** Tensors are immutable values: equal when dtype, shape and bytes are equal. */
    @Override
    public boolean equals(Object o) {
        return o instanceof Tensor t && contentEquals(t);
    }

    @Override
    public int hashCode() {
        return dtype.hashCode() * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return dtype.displayName() + Arrays.toString(shape);
    }
}
