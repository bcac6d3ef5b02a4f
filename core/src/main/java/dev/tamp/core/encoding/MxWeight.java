package dev.tamp.core.encoding;

import java.nio.ByteBuffer;

/**
 * An MX block-scaled weight: one E8M0 scale byte per block of {@code blockSize} consecutive K elements
 * of a row; element codes packed (formats.md §1, §6.2). K is zero-padded to a multiple of the block size;
 * {@code shape} keeps the logical K. codes: N rows × packedBytes(paddedK); scales: N × paddedK/blockSize.
 * {@code anchor} names the format this was sliced from (Slice-and-Scale), or null when quantized directly.
 */
public record MxWeight(long[] shape, int kAxis, MxFormat format, int blockSize,
                       ByteBuffer codes, ByteBuffer scales, MxFormat anchor, Layout layout) implements EncodedTensor {

    public long rows() { return EncodedTensor.rows(shape, kAxis); }

    public long cols() { return EncodedTensor.cols(shape, kAxis); }

    public long paddedCols() { return (cols() + blockSize - 1) / blockSize * blockSize; }

    public long blocksPerRow() { return paddedCols() / blockSize; }

    @Override public long storageBytes() { return codes.capacity() + scales.capacity(); }

    @Override public String describe() { return format.cliName() + (anchor != null ? "<" + anchor.cliName() : ""); }
}
