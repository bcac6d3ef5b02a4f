package dev.tamp.formats.gguf;

import dev.tamp.core.tensor.Tensor;
import dev.tamp.formats.io.AtomicFiles;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Writes GGUF v3 (formats.md §4.2): metadata, tensor infos, zero padding, then each tensor's raw ggml-typed
 * bytes at an aligned offset. Atomic and deterministic (metadata in the map's iteration order).
 *
 * <p>Metadata values: String (string), Boolean (bool), Integer (u32), Long (u64), Float (f32), Double (f64), and
 * Lists of one of those types (arrays: tokenizer vocabularies, scores, token types). {@code general.alignment}
 * (an Integer, multiple of 8) overrides the default alignment of 32.
 */
public final class GgufWriter {
    /**
     * One tensor: its GGUF name, type, row-major shape (written innermost-first) and the source of exactly its encoded
     * bytes, asked once, when the writer reaches the tensor — so an exporter encodes one tensor at a time and the
     * file is streamed, never held whole (the header needs only types and shapes).
     */
    public record TensorData(String name, GgmlType type, long[] shape, Supplier<byte[]> source) {
        public TensorData(String name, GgmlType type, long[] shape, byte[] bytes) {
            this(name, type, shape, () -> bytes);
        }

        public byte[] bytes() {
            return source.get();
        }

        long size() {
            return type.bytes(Tensor.numel(shape));
        }
    }

    private GgufWriter() {}

    public static void write(Path out, Map<String, Object> metadata, List<TensorData> tensors) {
        long align = GgufReader.DEFAULT_ALIGNMENT;
        if (metadata.get("general.alignment") instanceof Integer a) {
            if (a <= 0 || a % 8 != 0) throw new IllegalArgumentException("general.alignment must be a positive multiple of 8, got " + a);
            align = a;
        } else if (metadata.containsKey("general.alignment")) {
            throw new IllegalArgumentException("general.alignment must be an Integer (u32)");
        }
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        Le le = new Le(head);
        le.i32(GgufReader.MAGIC);
        le.i32(3);
        le.i64(tensors.size());
        le.i64(metadata.size());
        for (Map.Entry<String, Object> e : metadata.entrySet()) {
            le.str(e.getKey());
            Object v = e.getValue();
            if (v instanceof List<?> list) {
                int type = list.isEmpty() ? 8 : typeOf(e.getKey(), list.get(0));
                le.i32(9);
                le.i32(type);
                le.i64(list.size());
                for (Object item : list) {
                    if (typeOf(e.getKey(), item) != type) throw new IllegalArgumentException("metadata " + e.getKey() + " mixes element types");
                    scalar(le, item);
                }
            } else {
                le.i32(typeOf(e.getKey(), v));
                scalar(le, v);
            }
        }
        Set<String> names = new HashSet<>();
        long off = 0;
        for (TensorData t : tensors) {
            if (!names.add(t.name())) throw new IllegalArgumentException("tensor " + t.name() + " given twice");
            if (t.shape().length < 1 || t.shape().length > GgufReader.MAX_DIMS) {
                throw new IllegalArgumentException("tensor " + t.name() + " must have 1.." + GgufReader.MAX_DIMS + " dimensions");
            }
            if (t.shape()[t.shape().length - 1] % t.type().blockSize != 0) {
                throw new IllegalArgumentException("tensor " + t.name() + ": the innermost dimension is not a whole number of " + t.type() + " blocks");
            }
            le.str(t.name());
            le.i32(t.shape().length);
            for (int d = t.shape().length - 1; d >= 0; d--) le.i64(t.shape()[d]);
            le.i32(t.type().id);
            le.i64(off);
            off += pad(t.size(), align) + t.size();
        }
        final long a = align;
        AtomicFiles.writeStream(out, o -> {
            byte[] h = head.toByteArray();
            o.write(h);
            o.write(new byte[(int) pad(h.length, a)]);
            for (TensorData t : tensors) {
                byte[] b = t.bytes();
                if (b.length != t.size()) {
                    throw new IllegalArgumentException("tensor " + t.name() + " has " + b.length + " bytes, its shape and type need " + t.size());
                }
                o.write(b);
                o.write(new byte[(int) pad(b.length, a)]);
            }
        });
    }

    private static long pad(long n, long align) {
        return (align - n % align) % align;
    }

    /** A signed 32-bit metadata value (GGUF type 5); a plain Integer is written as UINT32, as llama.cpp's counts are. */
    public record Int32(int value) {}

    private static int typeOf(String key, Object v) {
        if (v instanceof Int32) return 5;
        if (v instanceof String) return 8;
        if (v instanceof Boolean) return 7;
        if (v instanceof Integer) return 4;
        if (v instanceof Long) return 10;
        if (v instanceof Float) return 6;
        if (v instanceof Double) return 12;
        throw new IllegalArgumentException("metadata " + key + ": unsupported value " + v);
    }

    private static void scalar(Le le, Object v) {
        if (v instanceof Int32 i) le.i32(i.value());
        else if (v instanceof String s) le.str(s);
        else if (v instanceof Boolean bo) le.out().write(bo ? 1 : 0);
        else if (v instanceof Integer i) le.i32(i);
        else if (v instanceof Long l) le.i64(l);
        else if (v instanceof Float f) le.i32(Float.floatToIntBits(f));
        else if (v instanceof Double d) le.i64(Double.doubleToLongBits(d));
    }

    private record Le(ByteArrayOutputStream out) {
        void i32(int v) { out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array()); }

        void i64(long v) { out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array()); }

        void str(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            i64(b.length);
            out.writeBytes(b);
        }
    }
}
