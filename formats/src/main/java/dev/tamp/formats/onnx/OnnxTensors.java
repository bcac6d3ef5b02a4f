package dev.tamp.formats.onnx;

import com.google.protobuf.ByteString;
import dev.tamp.core.error.BadInputException;
import dev.tamp.core.error.UnsupportedModelException;
import dev.tamp.core.tensor.DType;
import dev.tamp.core.tensor.Tensor;
import dev.tamp.formats.FileRegions;
import dev.tamp.formats.onnx.proto.OnnxProto.StringStringEntryProto;
import dev.tamp.formats.onnx.proto.OnnxProto.TensorProto;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * TensorProto ↔ {@link Tensor}. Reading handles raw_data, the typed repeated fields (quantized models keep
 * scales in float_data and zero points in int32_data; int8/uint8/int16/uint16/bool/f16/bf16 all live in
 * int32_data, f16/bf16 as bit patterns) and external data files. Writing always uses raw_data.
 */
public final class OnnxTensors {
    private OnnxTensors() {}

    /**
     * Converts a TensorProto. {@code file} is the model file (for messages), {@code baseDir} the directory
     * external data locations are relative to.
     */
    public static Tensor toTensor(TensorProto t, Path file, Path baseDir) {
        String name = t.getName();
        DType dtype = DType.fromOnnx(t.getDataType());
        if (dtype == null) {
            String typeName = TensorProto.DataType.forNumber(t.getDataType()) == null
                    ? Integer.toString(t.getDataType()) : TensorProto.DataType.forNumber(t.getDataType()).name();
            throw new UnsupportedModelException(file + ": tensor " + name + " has data type " + typeName
                    + ", which tamp does not support");
        }
        if (t.hasSegment()) throw new UnsupportedModelException(file + ": tensor " + name + " is segmented, which tamp does not support");
        long[] shape = new long[t.getDimsCount()];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = t.getDims(i);
            if (shape[i] < 0) throw BadInputException.inFile(file, "tensor " + name + " has a negative dimension " + Arrays.toString(t.getDimsList().toArray()));
        }
        long numel;
        long bytes;
        try {
            numel = Tensor.numel(shape);
            bytes = Math.multiplyExact(numel, dtype.byteSize());
        } catch (ArithmeticException e) {
            throw BadInputException.inFile(file, "tensor " + name + " declares an impossible size " + t.getDimsList());
        }
        if (t.getDataLocation() == TensorProto.DataLocation.EXTERNAL) {
            return Tensor.of(dtype, shape, external(t, file, baseDir, bytes));
        }
        if (t.hasRawData()) {
            ByteString raw = t.getRawData();
            if (raw.size() != bytes) {
                throw BadInputException.inFile(file, "tensor " + name + " holds " + raw.size() + " bytes of raw data, its shape "
                        + Arrays.toString(shape) + " " + dtype.displayName() + " needs " + bytes);
            }
            return Tensor.of(dtype, shape, raw.asReadOnlyByteBuffer());
        }
        if (bytes > Integer.MAX_VALUE) throw BadInputException.inFile(file, "tensor " + name + " is too large for typed fields");
        ByteBuffer out = ByteBuffer.allocate((int) bytes).order(ByteOrder.LITTLE_ENDIAN);
        int n = (int) numel;
        switch (dtype) {
            case F32 -> {
                checkCount(file, name, "float_data", t.getFloatDataCount(), n);
                for (int i = 0; i < n; i++) out.putFloat(t.getFloatData(i));
            }
            case F64 -> {
                checkCount(file, name, "double_data", t.getDoubleDataCount(), n);
                for (int i = 0; i < n; i++) out.putDouble(t.getDoubleData(i));
            }
            case I64 -> {
                checkCount(file, name, "int64_data", t.getInt64DataCount(), n);
                for (int i = 0; i < n; i++) out.putLong(t.getInt64Data(i));
            }
            case U32, U64 -> {
                checkCount(file, name, "uint64_data", t.getUint64DataCount(), n);
                for (int i = 0; i < n; i++) {
                    if (dtype == DType.U32) out.putInt((int) t.getUint64Data(i)); else out.putLong(t.getUint64Data(i));
                }
            }
            case I32, I16, U16, I8, U8, BOOL, F16, BF16 -> {
                checkCount(file, name, "int32_data", t.getInt32DataCount(), n);
                for (int i = 0; i < n; i++) {
                    int v = t.getInt32Data(i);
                    switch (dtype.byteSize()) {
                        case 4 -> out.putInt(v);
                        case 2 -> out.putShort((short) v);
                        default -> out.put((byte) v);
                    }
                }
            }
        }
        out.flip();
        return Tensor.of(dtype, shape, out);
    }

    private static void checkCount(Path file, String name, String field, int have, int want) {
        if (have != want) {
            throw BadInputException.inFile(file, "tensor " + name + " has " + have + " values in " + field + ", its shape needs " + want);
        }
    }

    private static ByteBuffer external(TensorProto t, Path file, Path baseDir, long bytes) {
        String location = null;
        long offset = 0;
        long length = -1;
        for (StringStringEntryProto e : t.getExternalDataList()) {
            try {
                switch (e.getKey()) {
                    case "location" -> location = e.getValue();
                    case "offset" -> offset = Long.parseLong(e.getValue());
                    case "length" -> length = Long.parseLong(e.getValue());
                    default -> { }
                }
            } catch (NumberFormatException ex) {
                throw BadInputException.inFile(file, "tensor " + t.getName() + " has a malformed external data " + e.getKey() + ": " + e.getValue());
            }
        }
        if (location == null || location.isEmpty()) {
            throw BadInputException.inFile(file, "tensor " + t.getName() + " is external but names no location");
        }
        Path base = baseDir.toAbsolutePath().normalize();
        Path data = base.resolve(location).normalize();
        if (!data.startsWith(base) || location.startsWith("/")) {
            throw BadInputException.inFile(file, "tensor " + t.getName() + " refers to external data outside the model's directory: " + location);
        }
        if (!java.nio.file.Files.isRegularFile(data)) {
            throw BadInputException.inFile(file, "tensor " + t.getName() + " refers to missing external data file " + location);
        }
        if (length >= 0 && length != bytes) {
            throw BadInputException.inFile(file, "tensor " + t.getName() + " declares " + length + " external bytes, its shape needs " + bytes);
        }
        try {
            return FileRegions.map(data, offset, bytes);
        } catch (BadInputException e) {
            throw BadInputException.inFile(file, "tensor " + t.getName() + ": " + e.getMessage(), e);
        }
    }

    /** A TensorProto with raw_data (little-endian), as ONNX requires. */
    public static TensorProto toProto(String name, Tensor t) {
        TensorProto.Builder b = TensorProto.newBuilder().setName(name).setDataType(t.dtype().onnxCode());
        for (long d : t.shape()) b.addDims(d);
        b.setRawData(ByteString.copyFrom(t.data()));
        return b.build();
    }

    /** A TensorProto whose bytes live in an external file (location relative to the model). */
    public static TensorProto toExternalProto(String name, Tensor t, String location, long offset) {
        TensorProto.Builder b = TensorProto.newBuilder().setName(name).setDataType(t.dtype().onnxCode())
                .setDataLocation(TensorProto.DataLocation.EXTERNAL);
        for (long d : t.shape()) b.addDims(d);
        b.addExternalData(StringStringEntryProto.newBuilder().setKey("location").setValue(location));
        b.addExternalData(StringStringEntryProto.newBuilder().setKey("offset").setValue(Long.toString(offset)));
        b.addExternalData(StringStringEntryProto.newBuilder().setKey("length").setValue(Long.toString(t.byteSize())));
        return b.build();
    }
}
