package dev.tamp.core.encoding;

import java.nio.ByteBuffer;

/**
 * N:M semi-structured sparse weight (2:4 by default) along K (formats.md §5.2): {@code values} holds the
 * kept elements as an [N][K·n/m] encoded matrix in increasing column order; {@code indices} holds, per
 * group of 4 along K, one nibble naming the two kept positions in PTX metadata encoding (first index in
 * the low 2 bits), low nibble = even group. The dense view has zeros elsewhere.
 */
public record Sparse24Weight(long[] shape, int kAxis, EncodedTensor values, ByteBuffer indices, Layout layout)
        implements EncodedTensor {

    public long rows() { return EncodedTensor.rows(shape, kAxis); }

    public long cols() { return EncodedTensor.cols(shape, kAxis); }

    @Override public long storageBytes() { return values.storageBytes() + indices.capacity(); }

    @Override public String describe() { return "2:4(" + values.describe() + ")"; }
}
