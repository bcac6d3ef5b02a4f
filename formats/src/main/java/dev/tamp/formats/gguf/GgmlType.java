package dev.tamp.formats.gguf;

/** The ggml tensor types tamp reads (others are reported by number), with their block geometry. */
public enum GgmlType {
    F32(0, 1, 4), F16(1, 1, 2), Q4_0(2, 32, 18), Q8_0(8, 32, 34), BF16(30, 1, 2);

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

    /** Bytes of {@code n} elements (n must be a multiple of the block size). */
    public long bytes(long n) {
        return n / blockSize * blockBytes;
    }
}
