package dev.tamp.formats.safetensors;

import dev.tamp.core.tensor.DType;

/** safetensors dtype names ↔ {@link DType}. */
final class SafetensorsDTypes {
    private SafetensorsDTypes() {}

    static DType parse(String s) {
        return switch (s) {
            case "F32" -> DType.F32;
            case "F16" -> DType.F16;
            case "BF16" -> DType.BF16;
            case "F64" -> DType.F64;
            case "I8" -> DType.I8;
            case "U8" -> DType.U8;
            case "I16" -> DType.I16;
            case "U16" -> DType.U16;
            case "I32" -> DType.I32;
            case "U32" -> DType.U32;
            case "I64" -> DType.I64;
            case "U64" -> DType.U64;
            case "BOOL" -> DType.BOOL;
            default -> null;
        };
    }

    /** dtype names safetensors defines that tamp does not read (well-formed but unsupported). */
    static boolean isKnownUnsupported(String s) {
        return s.startsWith("F8_") || s.equals("F4") || s.startsWith("F6_") || s.equals("C64") || s.equals("F8");
    }

    static String name(DType t) {
        return switch (t) {
            case F32 -> "F32";
            case F16 -> "F16";
            case BF16 -> "BF16";
            case F64 -> "F64";
            case I8 -> "I8";
            case U8 -> "U8";
            case I16 -> "I16";
            case U16 -> "U16";
            case I32 -> "I32";
            case U32 -> "U32";
            case I64 -> "I64";
            case U64 -> "U64";
            case BOOL -> "BOOL";
        };
    }
}
