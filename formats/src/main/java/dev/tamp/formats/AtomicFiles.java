package dev.tamp.formats;

import dev.tamp.core.error.BadInputException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Writes an output file so that readers never see half of it: the bytes go to a temporary file in the
 * target's directory, are forced to disk, and the temporary file is renamed over the target. On any failure
 * the temporary file is removed and the target is left as it was.
 */
public final class AtomicFiles {
    /** Produces the content into the given stream. */
    public interface Writer {
        void write(Path tmp) throws IOException;
    }

    private AtomicFiles() {}

    public static void write(Path target, Writer writer) {
        Path abs = target.toAbsolutePath();
        Path dir = abs.getParent();
        Path tmp = null;
        try {
            Files.createDirectories(dir);
            tmp = Files.createTempFile(dir, "." + abs.getFileName() + ".", ".tmp");
            writer.write(tmp);
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ch.force(true);
            }
            try {
                Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
            }
            tmp = null;
        } catch (IOException e) {
            throw BadInputException.inFile(target, "cannot write: " + e.getMessage(), e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // best effort: the failure being reported matters more
                }
            }
        }
    }

    /** Convenience for stream writers. */
    public static void writeStream(Path target, StreamWriter writer) {
        write(target, tmp -> {
            try (OutputStream out = new java.io.BufferedOutputStream(Files.newOutputStream(tmp), 1 << 20)) {
                writer.write(out);
            }
        });
    }

    public interface StreamWriter {
        void write(OutputStream out) throws IOException;
    }
}
