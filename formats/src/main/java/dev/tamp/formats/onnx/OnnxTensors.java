package dev.tamp.formats.onnx;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import dev.tamp.core.error.BadInputException;
import dev.tamp.core.error.UnsupportedModelException;
import dev.tamp.core.tensor.DType;
import dev.tamp.core.tensor.Tensor;
import dev.tamp.formats.io.FileRegions;
import dev.tamp.formats.onnx.proto.OnnxProto.StringStringEntryProto;
import dev.tamp.formats.onnx.proto.OnnxProto.TensorProto;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * TensorProto ↔ {@link Tensor}.
 *
 * <p>Reading accepts the three places ONNX keeps tensor bytes: {@code raw_data} (little-endian, viewed
 * without a copy when the model was parsed with aliasing); the typed repeated fields (float_data,
 * double_data, int64_data, uint64_data for uint32/uint64, and int32_data for every narrower integer type,
 * bool and the bit patterns of float16/bfloat16 — quantized models keep scales and zero points there); and
 * external data files ({@code location}, {@code offset}, {@code length} relative to the model's directory,
 * memory-mapped). Every declared size is checked against the bytes actually present before anything is
 * allocated. Writing uses raw_data or external data, never the typed fields.
 */
public final class OnnxTensors {
    private OnnxTensors() {}

    /**
     * Converts a TensorProto. {@code file} names the model in messages; {@code baseDir} is the directory
     * external data locations are relative to, or null where external data is not allowed (a graph stored
     * inside a .tpk must not read other files).
     *
     * @throws BadInputException for malformed tensors (negative dims, data size not matching the shape,
     *     typed values out of their dtype's range, external data missing or outside {@code baseDir})
     * @throws UnsupportedModelException for dtypes tamp lacks (string, float8, int4, complex) and segments
     */
    public static Tensor toTensor(TensorProto t, Path file, Path baseDir) {
        String name = t.getName();
        DType dtype = dtype(t, file);
        if (t.hasSegment()) throw unsupported(file, name, "is segmented (stored in chunks)");
        long[] shape = new long[t.getDimsCount()];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = t.getDims(i);
            if (shape[i] < 0) throw bad(file, name, "has a negative dimension " + t.getDimsList());
        }
        long numel;
        long bytes;
        try {
            numel = Tensor.numel(shape);
            bytes = Math.multiplyExact(numel, dtype.byteSize());
        } catch (ArithmeticException e) {
            throw bad(file, name, "declares an impossible size " + t.getDimsList());
        }
        if (t.getDataLocation() == TensorProto.DataLocation.EXTERNAL) {
            return Tensor.of(dtype, shape, external(t, file, baseDir, bytes));
        }
        if (t.hasRawData()) {
            ByteString raw = t.getRawData();
            if (raw.size() != bytes) {
                throw bad(file, name, "holds " + raw.size() + " bytes of raw data, its shape " + Arrays.toString(shape) + " "
                        + dtype.displayName() + " needs " + bytes);
            }
            return Tensor.of(dtype, shape, raw.asReadOnlyByteBuffer());
        }
        return Tensor.of(dtype, shape, typed(t, dtype, numel, bytes, file));
    }

    private static DType dtype(TensorProto t, Path file) {
        int code = t.getDataType();
        if (code == TensorProto.DataType.UNDEFINED_VALUE) throw bad(file, t.getName(), "has no data type");
        DType dtype = DType.fromOnnx(code);
        if (dtype == null) {
            TensorProto.DataType known = TensorProto.DataType.forNumber(code);
            throw unsupported(file, t.getName(), "has data type " + (known == null ? "code " + code : known.name())
                    + ", which tamp does not support");
        }
        return dtype;
    }

    /** Decodes the typed repeated field for {@code dtype}; the value count is checked before allocating. */
    private static ByteBuffer typed(TensorProto t, DType dtype, long numel, long bytes, Path file) {
        String name = t.getName();
        int have = switch (dtype) {
            case F32 -> t.getFloatDataCount();
            case F64 -> t.getDoubleDataCount();
            case I64 -> t.getInt64DataCount();
            case U32, U64 -> t.getUint64DataCount();
            case I32, I16, U16, I8, U8, BOOL, F16, BF16 -> t.getInt32DataCount();
        };
        if (have != numel) {
            throw bad(file, name, "has " + have + " values in " + typedField(dtype) + ", its shape "
                    + t.getDimsList() + " needs " + numel);
        }
        // have == numel ≤ Integer.MAX_VALUE, and at most 8 bytes per value were parsed for each.
        if (bytes > Integer.MAX_VALUE) throw bad(file, name, "is too large for the typed fields (" + bytes + " bytes)");
        ByteBuffer out = ByteBuffer.allocate((int) bytes).order(ByteOrder.LITTLE_ENDIAN);
        int n = (int) numel;
        switch (dtype) {
            case F32 -> { for (int i = 0; i < n; i++) out.putFloat(t.getFloatData(i)); }
            case F64 -> { for (int i = 0; i < n; i++) out.putDouble(t.getDoubleData(i)); }
            case I64 -> { for (int i = 0; i < n; i++) out.putLong(t.getInt64Data(i)); }
            case U64 -> { for (int i = 0; i < n; i++) out.putLong(t.getUint64Data(i)); }
            case U32 -> {
                for (int i = 0; i < n; i++) {
                    long v = t.getUint64Data(i);
                    if (v < 0 || v > 0xFFFF_FFFFL) throw bad(file, name, "has uint32 value " + Long.toUnsignedString(v) + " out of range");
                    out.putInt((int) v);
                }
            }
            case I32 -> { for (int i = 0; i < n; i++) out.putInt(t.getInt32Data(i)); }
            case I16, U16, F16, BF16 -> {
                long lo = dtype == DType.I16 ? Short.MIN_VALUE : 0;
                long hi = dtype == DType.I16 ? Short.MAX_VALUE : 0xFFFF;
                for (int i = 0; i < n; i++) out.putShort((short) inRange(t, i, lo, hi, dtype, file));
            }
            case I8, U8, BOOL -> {
                long lo = dtype == DType.I8 ? Byte.MIN_VALUE : 0;
                long hi = dtype == DType.I8 ? Byte.MAX_VALUE : dtype == DType.U8 ? 0xFF : 1;
                for (int i = 0; i < n; i++) out.put((byte) inRange(t, i, lo, hi, dtype, file));
            }
        }
        out.flip();
        return out;
    }

    /** int32_data carries narrower types; a value outside the type's range means a corrupt or lying file. */
    private static int inRange(TensorProto t, int i, long lo, long hi, DType dtype, Path file) {
        int v = t.getInt32Data(i);
        if (v < lo || v > hi) {
            throw bad(file, t.getName(), "has " + dtype.displayName() + " value " + v + " at index " + i + " in int32_data, outside ["
                    + lo + ", " + hi + "]");
        }
        return v;
    }

    private static String typedField(DType dtype) {
        return switch (dtype) {
            case F32 -> "float_data";
            case F64 -> "double_data";
            case I64 -> "int64_data";
            case U32, U64 -> "uint64_data";
            default -> "int32_data";
        };
    }

    private static ByteBuffer external(TensorProto t, Path file, Path baseDir, long bytes) {
        String name = t.getName();
        if (baseDir == null) throw bad(file, name, "refers to external data, which is not allowed here");
        String location = null;
        long offset = 0;
        long length = -1;
        for (StringStringEntryProto e : t.getExternalDataList()) {
            try {
                switch (e.getKey()) {
                    case "location" -> location = e.getValue();
                    case "offset" -> offset = Long.parseLong(e.getValue());
                    case "length" -> length = Long.parseLong(e.getValue());
                    default -> { } // "checksum" and future keys do not change where the bytes are
                }
            } catch (NumberFormatException ex) {
                throw bad(file, name, "has a malformed external data " + e.getKey() + " '" + oneLine(e.getValue()) + "'");
            }
        }
        if (location == null || location.isEmpty()) throw bad(file, name, "is external but names no location");
        Path data = insideDirectory(file, name, baseDir, location);
        if (length >= 0 && length != bytes) {
            throw bad(file, name, "declares " + length + " external bytes, its shape " + t.getDimsList() + " needs " + bytes);
        }
        try {
            return FileRegions.map(data, offset, bytes);
        } catch (BadInputException e) {
            throw bad(file, name, "external data: " + e.getMessage());
        }
    }

    /**
     * Resolves an external location against the model's directory, refusing absolute paths and paths that
     * leave the directory ("..", lexically): a model file must not make tamp read arbitrary files. Symbolic
     * links placed in the directory are followed — they are the user's arrangement, not the file's content,
     * and the Hugging Face cache links every snapshot file to a blob elsewhere.
     */
    private static Path insideDirectory(Path file, String name, Path baseDir, String location) {
        String shown = "'" + oneLine(location) + "'";
        Path base;
        Path data;
        try {
            base = baseDir.toAbsolutePath().normalize();
            Path rel = base.getFileSystem().getPath(location);
            if (rel.isAbsolute() || rel.getRoot() != null || location.startsWith("/") || location.startsWith("\\")) {
                throw bad(file, name, "refers to external data by an absolute path " + shown);
            }
            data = base.resolve(rel).normalize();
        } catch (java.nio.file.InvalidPathException e) {
            throw bad(file, name, "refers to external data by an invalid path " + shown);
        }
        if (!data.startsWith(base) || data.equals(base)) {
            throw bad(file, name, "refers to external data outside the model's directory: " + shown);
        }
        if (!Files.isRegularFile(data)) throw bad(file, name, "refers to missing external data file " + shown);
        return data;
    }

    /** A TensorProto holding the bytes as raw_data (little-endian, as ONNX requires); the bytes are not copied. */
    public static TensorProto toProto(String name, Tensor t) {
        return header(name, t).setRawData(UnsafeByteOperations.unsafeWrap(t.data())).build();
    }

    /** A TensorProto whose bytes live at {@code offset} in the external file {@code location} (relative to the model). */
    public static TensorProto toExternalProto(String name, Tensor t, String location, long offset) {
        TensorProto.Builder b = header(name, t).setDataLocation(TensorProto.DataLocation.EXTERNAL);
        b.addExternalData(StringStringEntryProto.newBuilder().setKey("location").setValue(location));
        b.addExternalData(StringStringEntryProto.newBuilder().setKey("offset").setValue(Long.toString(offset)));
        b.addExternalData(StringStringEntryProto.newBuilder().setKey("length").setValue(Long.toString(t.byteSize())));
        return b.build();
    }

    private static TensorProto.Builder header(String name, Tensor t) {
        TensorProto.Builder b = TensorProto.newBuilder().setDataType(t.dtype().onnxCode());
        if (name != null && !name.isEmpty()) b.setName(name);
        for (long d : t.shape()) b.addDims(d);
        return b;
    }

    private static BadInputException bad(Path file, String tensor, String problem) {
        return BadInputException.inFile(file, "tensor '" + oneLine(tensor) + "' " + problem);
    }

    private static UnsupportedModelException unsupported(Path file, String tensor, String problem) {
        return new UnsupportedModelException(file + ": tensor '" + oneLine(tensor) + "' " + problem);
    }

    /** Names come from the file; keep messages on one line and of bounded length. */
    static String oneLine(String s) {
        String flat = s.replaceAll("[\\p{Cntrl}]", "?");
        return flat.length() > 200 ? flat.substring(0, 200) + "…" : flat;
    }
}
