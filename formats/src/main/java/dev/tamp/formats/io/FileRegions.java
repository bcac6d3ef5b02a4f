package dev.tamp.formats.io;

import dev.tamp.core.error.BadInputException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Bounds-checked, memory-mapped access to regions of checkpoint files, and their first bytes for telling formats apart. */
public final class FileRegions {
    private FileRegions() {}

    /**
     * Maps [offset, offset+length) of the file read-only, little-endian. Fails with a BadInputException
     * naming the file when the region lies outside it (a lying header) or exceeds 2 GiB.
     */
    public static ByteBuffer map(Path file, long offset, long length) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return map(file, ch, offset, length);
        } catch (IOException e) {
            throw BadInputException.inFile(file, "cannot read: " + e.getMessage(), e);
        }
    }

    /** As {@link #map(Path, long, long)} on an open channel. */
    public static ByteBuffer map(Path file, FileChannel ch, long offset, long length) {
        try {
            long size = ch.size();
            checkRange(file, offset, length, size);
            if (length > Integer.MAX_VALUE) {
                throw BadInputException.inFile(file, "a single tensor of " + length + " bytes exceeds the 2 GiB limit");
            }
            if (length == 0) return ByteBuffer.allocate(0).order(ByteOrder.LITTLE_ENDIAN);
            return ch.map(FileChannel.MapMode.READ_ONLY, offset, length).order(ByteOrder.LITTLE_ENDIAN);
        } catch (IOException e) {
            throw BadInputException.inFile(file, "cannot map bytes " + offset + ".." + (offset + length) + ": " + e.getMessage(), e);
        }
    }

    /** Throws when [offset, offset+length) is not inside a file of {@code size} bytes. */
    public static void checkRange(Path file, long offset, long length, long size) {
        if (offset < 0 || length < 0 || offset > size || length > size - offset) {
            throw BadInputException.inFile(file, "data region " + offset + "+" + length
                    + " lies outside the file (" + size + " bytes): truncated or corrupt");
        }
    }

    public static long size(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            throw BadInputException.inFile(file, "cannot read: " + e.getMessage(), e);
        }
    }

    /** The first bytes of a file (fewer when it is shorter); empty for directories or unreadable files. */
    public static byte[] magic(Path path, int n) {
        if (!Files.isRegularFile(path)) return new byte[0];
        try (InputStream in = Files.newInputStream(path)) {
            return in.readNBytes(n);
        } catch (IOException e) {
            return new byte[0];
        }
    }
}
