package dev.tamp.core.tensor;

/** Element types of dense tensors, with the ONNX TensorProto.DataType code each maps to. */
public enum DType {
    F32(4, 1, "float32"),
    F16(2, 10, "float16"),
    BF16(2, 16, "bfloat16"),
    F64(8, 11, "float64"),
    I8(1, 3, "int8"),
    U8(1, 2, "uint8"),
    I16(2, 5, "int16"),
    U16(2, 4, "uint16"),
    I32(4, 6, "int32"),
    U32(4, 12, "uint32"),
    I64(8, 7, "int64"),
    U64(8, 13, "uint64"),
    BOOL(1, 9, "bool");

    private final int byteSize;
    private final int onnxCode;
    private final String displayName;

    DType(int byteSize, int onnxCode, String displayName) {
        this.byteSize = byteSize;
        this.onnxCode = onnxCode;
        this.displayName = displayName;
    }

    public int byteSize() { return byteSize; }

    public int onnxCode() { return onnxCode; }

    public String displayName() { return displayName; }

    public boolean isFloatingPoint() { return this == F32 || this == F16 || this == BF16 || this == F64; }

    /** The dtype for an ONNX TensorProto.DataType code, or null when tamp has no dense equivalent. */
    public static DType fromOnnx(int code) {
        for (DType t : values()) {
            if (t.onnxCode == code) return t;
        }
        return null;
    }
}
