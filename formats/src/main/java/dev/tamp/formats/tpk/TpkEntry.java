package dev.tamp.formats.tpk;

import java.nio.ByteBuffer;

/**
 * One tensor-table entry and its planes, as written or as read (planes then map the file).
 * {@code dims} is the logical shape (rank ≤ 4 fits the entry; longer shapes are kept in metadata).
 */
record TpkEntry(String name, int format, int layout, long[] dims, int scaleType, int auxType, int flags,
                int blockSize, int blockAxis, ByteBuffer data, ByteBuffer scales, ByteBuffer aux) {

    static ByteBuffer empty() {
        return ByteBuffer.allocate(0);
    }

    boolean derived() {
        return (flags & TpkFormat.ENTRY_DERIVED) != 0;
    }
}
