package dev.tamp.formats.io;

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
 *
 * <p>A process stopped by a signal (Ctrl-C, SIGTERM, a CI timeout) removes its unfinished temporary files in a
 * shutdown hook. Only SIGKILL can leave one behind: a hidden {@code .<name>.<random>.tmp} beside the target,
 * never a partial target.
 */
public final class AtomicFiles {
    private static final java.util.Set<Path> IN_PROGRESS = java.util.concurrent.ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(AtomicFiles::removeUnfinished, "tamp-unfinished-outputs"));
    }

    private static void removeUnfinished() {
        for (Path p : IN_PROGRESS) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException ignored) {
                // the process is ending; nothing better to do
            }
        }
    }

    /** Produces the content into the given stream. */
    public interface Writer {
        void write(Path tmp) throws IOException;
    }

    private AtomicFiles() {}

    public static void write(Path target, Writer writer) {
        Path abs = target.toAbsolutePath();
        Path dir = abs.getParent();
        Path tmp = null;
        Path registered = null;
        try {
            Files.createDirectories(dir);
            tmp = Files.createTempFile(dir, "." + abs.getFileName() + ".", ".tmp");
            registered = tmp;
            IN_PROGRESS.add(tmp);
            readableByAll(tmp);
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
            if (registered != null) IN_PROGRESS.remove(registered);
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // best effort: the failure being reported matters more
                }
            }
        }
    }

    /**
     * A scratch file beside {@code target} (same file system, hidden name), removed at shutdown like an
     * unfinished output; the caller removes it with {@link #discard} when done.
     */
    public static Path temporaryBeside(Path target, String purpose) throws IOException {
        Path abs = target.toAbsolutePath();
        Path tmp = Files.createTempFile(abs.getParent(), "." + abs.getFileName() + "." + purpose + ".", ".tmp");
        IN_PROGRESS.add(tmp);
        return tmp;
    }

    /** Removes a scratch file made by {@link #temporaryBeside}. */
    public static void discard(Path scratch) {
        IN_PROGRESS.remove(scratch);
        try {
            Files.deleteIfExists(scratch);
        } catch (IOException ignored) {
            // a leftover hidden scratch file is harmless; the output's fate matters more
        }
    }

    /** Temporary files are created owner-only; an output is an ordinary file (rw-r--r--) once renamed into place. */
    private static void readableByAll(Path tmp) throws IOException {
        if (tmp.getFileSystem().supportedFileAttributeViews().contains("posix")) {
            Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
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
