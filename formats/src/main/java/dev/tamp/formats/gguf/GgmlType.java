package dev.tamp.formats.gguf;

/** The ggml tensor types tamp reads (others are reported by number), with their block geometry. */
public enum GgmlType {
    F32(0, 1, 4), F16(1, 1, 2), Q4_0(2, 32, 18), Q8_0(8, 32, 34), BF16(30, 1, 2), MXFP4(39, 32, 17);

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

    /** ggml's name for a type id (formats.md §4.1), readable or not, e.g. "Q4_K (12)". */
    public static String describe(int id) {
        String[] names = {"F32", "F16", "Q4_0", "Q4_1", null, null, "Q5_0", "Q5_1", "Q8_0", "Q8_1", "Q2_K", "Q3_K", "Q4_K",
                "Q5_K", "Q6_K", "Q8_K", "IQ2_XXS", "IQ2_XS", "IQ3_XXS", "IQ1_S", "IQ4_NL", "IQ3_S", "IQ2_S", "IQ4_XS", "I8", "I16",
                "I32", "I64", "F64", "IQ1_M", "BF16", null, null, null, "TQ1_0", "TQ2_0", null, null, null, "MXFP4"};
        String n = id >= 0 && id < names.length ? names[id] : null;
        return (n == null ? "unknown" : n) + " (" + id + ")";
    }

    /** Bytes of {@code n} elements (n must be a multiple of the block size); ArithmeticException on overflow. */
    public long bytes(long n) {
        return Math.multiplyExact(n / blockSize, (long) blockBytes);
    }
}
