package dev.tamp.formats.io;

import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.error.BadInputException;
import dev.tamp.core.tensor.DType;
import dev.tamp.core.tensor.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * One tensor's bytes in a checkpoint file. {@link #read()} copies them into the heap with a positional read:
 * unlike a mapping, the copy leaves no file pages in the process's resident set once it is dropped, which is
 * what keeps a streamed conversion's peak RSS near one layer.
 */
public record TensorRegion(Path file, long offset, long length, DType dtype, long[] shape) {

    public DenseWeight read() {
        if (length > Integer.MAX_VALUE - 8) {
            throw new BadInputException(file + ": a single tensor of " + length + " bytes is too large to read into memory");
        }
        ByteBuffer b = ByteBuffer.allocate((int) length).order(ByteOrder.LITTLE_ENDIAN);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            while (b.hasRemaining()) {
                if (ch.read(b, offset + b.position()) < 0) throw BadInputException.inFile(file, "ends inside a tensor (truncated)");
            }
        } catch (IOException e) {
            throw BadInputException.inFile(file, "cannot read: " + e.getMessage(), e);
        }
        return new DenseWeight(Tensor.of(dtype, shape, b.flip()));
    }
}
