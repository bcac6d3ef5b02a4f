package dev.tamp.formats.io;

import dev.tamp.core.ir.Model;
import dev.tamp.core.progress.Progress;
import java.nio.file.Path;

/**
 * Reads one checkpoint format into the model IR. Readers are streaming and bounds-checked: every
 * declared size and offset is validated against the file before use, large tensors are memory-mapped,
 * and any malformed input ends in a {@link dev.tamp.core.error.BadInputException} naming the file.
 */
public interface CheckpointReader {
    /** True when this reader recognises the path (by extension, directory layout or magic bytes). */
    boolean accepts(Path path);

    Model read(Path path, Progress progress);
}
