package dev.tamp.formats.gguf;

import dev.tamp.formats.AtomicFiles;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** Writes GGUF v3: scalar/string metadata and tensors given as raw ggml-typed bytes, 32-byte aligned. */
public final class GgufWriter {
    public record TensorData(String name, GgmlType type, long[] shape, byte[] bytes) {}

    private static final int ALIGN = 32;

    private GgufWriter() {}

    public static void write(Path out, Map<String, Object> metadata, List<TensorData> tensors) {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        Le le = new Le(head);
        le.i32(GgufReader.MAGIC);
        le.i32(3);
        le.i64(tensors.size());
        le.i64(metadata.size());
        for (Map.Entry<String, Object> e : metadata.entrySet()) {
            le.str(e.getKey());
            Object v = e.getValue();
            if (v instanceof String s) { le.i32(8); le.str(s); }
            else if (v instanceof Boolean bo) { le.i32(7); head.write(bo ? 1 : 0); }
            else if (v instanceof Integer i) { le.i32(4); le.i32(i); }
            else if (v instanceof Long l) { le.i32(10); le.i64(l); }
            else if (v instanceof Float f) { le.i32(6); le.i32(Float.floatToIntBits(f)); }
            else if (v instanceof Double d) { le.i32(12); le.i64(Double.doubleToLongBits(d)); }
            else throw new IllegalArgumentException("metadata " + e.getKey() + ": unsupported value " + v);
        }
        long off = 0;
        for (TensorData t : tensors) {
            le.str(t.name());
            le.i32(t.shape().length);
            for (int d = t.shape().length - 1; d >= 0; d--) le.i64(t.shape()[d]);
            le.i32(t.type().id);
            le.i64(off);
            off += (t.bytes().length + ALIGN - 1) / ALIGN * ALIGN;
        }
        AtomicFiles.writeStream(out, o -> {
            byte[] h = head.toByteArray();
            o.write(h);
            o.write(new byte[(ALIGN - h.length % ALIGN) % ALIGN]);
            for (TensorData t : tensors) {
                o.write(t.bytes());
                o.write(new byte[(ALIGN - t.bytes().length % ALIGN) % ALIGN]);
            }
        });
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
