package dev.tamp.core.encoding;

/** How an encoded tensor's planes are ordered in memory (formats.md §6.2 layout tags). */
public enum Layout {
    /** Row-major [N][K]; sub-byte codes low nibble first; FP6 as a little-endian 6-bit stream. */
    GENERIC(0x00),
    /** Nibble-split for 128-bit vectors (NEON): per 16-byte chunk, low nibbles hold k, high nibbles k+16. */
    SPLIT16(0x01),
    /** Nibble-split for 256-bit vectors (AVX2). */
    SPLIT32(0x02),
    /** Nibble-split for 512-bit vectors (AVX-512). */
    SPLIT64(0x03),
    /** GENERIC with each row padded to 16 bytes (GEMV word order). */
    CUDA_ROWS16(0x10),
    /** [K][N/8] int32 words, channel order 0,2,4,6,1,3,5,7 (AWQ GEMM). */
    CUDA_AWQ_GEMM(0x11),
    /** ggml-style four-row interleave. */
    ROWS_X4(0x20),
    /** ggml-style eight-row interleave. */
    ROWS_X8(0x21);

    private final int tag;

    Layout(int tag) { this.tag = tag; }

    public int tag() { return tag; }

    public static Layout fromTag(int tag) {
        for (Layout l : values()) if (l.tag == tag) return l;
        return null;
    }
}
