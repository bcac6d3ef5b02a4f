package dev.tamp.formats.gguf;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * The ggml tensor types tamp reads (others are reported by number), with their block geometry: elements per block
 * and bytes per block, as ggml-common.h lays the blocks out.
 */
public enum GgmlType {
    F32(0, 1, 4), F16(1, 1, 2),
    Q4_0(2, 32, 18), Q4_1(3, 32, 20), Q5_0(6, 32, 22), Q5_1(7, 32, 24), Q8_0(8, 32, 34),
    Q2_K(10, 256, 84), Q3_K(11, 256, 110), Q4_K(12, 256, 144), Q5_K(13, 256, 176), Q6_K(14, 256, 210), Q8_K(15, 256, 292),
    IQ4_NL(20, 32, 18), IQ4_XS(23, 256, 136),
    BF16(30, 1, 2), MXFP4(39, 32, 17);

    public final int id;
    public final int blockSize;
    public final int blockBytes;

    GgmlType(int id, int blockSize, int blockBytes) {
        this.id = id;
        this.blockSize = blockSize;
        this.blockBytes = blockBytes;
    }

    public static GgmlType of(int id) {
        for (GgmlType t : values()) if (t.id == id) return t;
        return null;
    }

    /** True for the block-quantized types, which the reader dequantizes to F32 on the heap (F32/F16/BF16 are mapped as-is). */
    public boolean isBlockQuantized() {
        return blockSize > 1;
    }

    /** The names of every type tamp reads, in id order, for error messages. */
    public static String supportedNames() {
        return Arrays.stream(values()).map(Enum::name).collect(Collectors.joining(", "));
    }

    /** ggml's name for a type id (formats.md §4.1), readable or not, e.g. "IQ2_XXS (16)". */
    public static String describe(int id) {
        String[] names = {"F32", "F16", "Q4_0", "Q4_1", null, null, "Q5_0", "Q5_1", "Q8_0", "Q8_1", "Q2_K", "Q3_K", "Q4_K",
                "Q5_K", "Q6_K", "Q8_K", "IQ2_XXS", "IQ2_XS", "IQ3_XXS", "IQ1_S", "IQ4_NL", "IQ3_S", "IQ2_S", "IQ4_XS", "I8", "I16",
                "I32", "I64", "F64", "IQ1_M", "BF16", null, null, null, "TQ1_0", "TQ2_0", null, null, null, "MXFP4", "NVFP4",
                "Q1_0", "Q2_0"};
        String n = id >= 0 && id < names.length ? names[id] : null;
        return (n == null ? "unknown" : n) + " (" + id + ")";
    }

    /** Bytes of {@code n} elements (n must be a multiple of the block size); ArithmeticException on overflow. */
    public long bytes(long n) {
        return Math.multiplyExact(n / blockSize, (long) blockBytes);
    }
}
