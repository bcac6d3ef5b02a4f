package dev.tamp.formats.pytorch;

import dev.tamp.core.error.BadInputException;
import dev.tamp.core.error.UnsupportedModelException;
import dev.tamp.formats.io.FileRegions;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * The central directory of a zip archive (zip64 included), read directly so that stored entries — torch.save
 * stores every storage uncompressed — can be memory-mapped in place instead of copied through
 * java.util.zip. Every offset and size is checked against the file.
 */
final class ZipDirectory {
    /** One member: name, compression method, sizes, and where its bytes start in the file. */
    record Entry(String name, int method, long compressedSize, long size, long dataOffset) {}

    private static final int EOCD = 0x06054b50, EOCD64 = 0x06064b50, LOCATOR64 = 0x07064b50, CENTRAL = 0x02014b50, LOCAL = 0x04034b50;

    /** The largest expansion deflate can achieve (258-byte matches coded in as little as about two bits). */
    static final long MAX_DEFLATE_RATIO = 1032;

    private final Path file;
    private final FileChannel ch;
    private final Map<String, Entry> entries;

    private ZipDirectory(Path file, FileChannel ch, Map<String, Entry> entries) {
        this.file = file;
        this.ch = ch;
        this.entries = entries;
    }

    Map<String, Entry> entries() { return entries; }

    static ZipDirectory read(Path file, FileChannel ch) throws IOException {
        long size = ch.size();
        // The end record is in the last 22 + 65535 (comment) bytes.
        int tailLen = (int) Math.min(size, 22 + 65535);
        ByteBuffer tail = FileRegions.map(file, ch, size - tailLen, tailLen);
        int at = -1;
        for (int i = tailLen - 22; i >= 0; i--) {
            if (tail.getInt(i) == EOCD && i + 22 + (tail.getShort(i + 20) & 0xFFFF) == tailLen) { at = i; break; }
        }
        if (at < 0) throw BadInputException.inFile(file, "not a zip archive (no end-of-directory record: truncated or corrupt)");
        long count = tail.getShort(at + 10) & 0xFFFF, cdSize = tail.getInt(at + 12) & 0xFFFFFFFFL, cdOffset = tail.getInt(at + 16) & 0xFFFFFFFFL;
        long eocdPos = size - tailLen + at;
        if (count == 0xFFFF || cdSize == 0xFFFFFFFFL || cdOffset == 0xFFFFFFFFL) {
            if (eocdPos < 20) throw BadInputException.inFile(file, "zip64 archive without its locator (corrupt)");
            ByteBuffer loc = FileRegions.map(file, ch, eocdPos - 20, 20);
            if (loc.getInt(0) != LOCATOR64) throw BadInputException.inFile(file, "zip64 archive without its locator (corrupt)");
            long e64 = loc.getLong(8);
            ByteBuffer rec = FileRegions.map(file, ch, e64, 56);
            if (rec.getInt(0) != EOCD64) throw BadInputException.inFile(file, "zip64 end record missing (corrupt)");
            count = rec.getLong(32);
            cdSize = rec.getLong(40);
            cdOffset = rec.getLong(48);
        }
        if (cdSize > Integer.MAX_VALUE || count < 0 || count > cdSize / 46) {
            throw BadInputException.inFile(file, "zip directory of " + count + " entries in " + cdSize + " bytes is impossible (corrupt)");
        }
        ByteBuffer cd = FileRegions.map(file, ch, cdOffset, cdSize);
        Map<String, Entry> entries = new LinkedHashMap<>();
        int p = 0;
        for (long i = 0; i < count; i++) {
            if (p + 46 > cdSize || cd.getInt(p) != CENTRAL) throw BadInputException.inFile(file, "zip directory entry " + i + " is corrupt");
            int flags = cd.getShort(p + 8) & 0xFFFF, method = cd.getShort(p + 10) & 0xFFFF;
            long csize = cd.getInt(p + 20) & 0xFFFFFFFFL, usize = cd.getInt(p + 24) & 0xFFFFFFFFL;
            int nameLen = cd.getShort(p + 28) & 0xFFFF, extraLen = cd.getShort(p + 30) & 0xFFFF, commentLen = cd.getShort(p + 32) & 0xFFFF;
            long local = cd.getInt(p + 42) & 0xFFFFFFFFL;
            if ((long) p + 46 + nameLen + extraLen + commentLen > cdSize) throw BadInputException.inFile(file, "zip directory entry " + i + " is corrupt");
            byte[] nb = new byte[nameLen];
            cd.get(p + 46, nb);
            String name = new String(nb, StandardCharsets.UTF_8);
            // zip64 extra field: the 64-bit values present for each 32-bit field saturated at 0xFFFFFFFF, in this order
            for (int x = p + 46 + nameLen; x + 4 <= p + 46 + nameLen + extraLen; ) {
                int id = cd.getShort(x) & 0xFFFF, len = cd.getShort(x + 2) & 0xFFFF;
                if (id == 1) {
                    int q = x + 4, end = Math.min(x + 4 + len, p + 46 + nameLen + extraLen);
                    if (usize == 0xFFFFFFFFL && q + 8 <= end) { usize = cd.getLong(q); q += 8; }
                    if (csize == 0xFFFFFFFFL && q + 8 <= end) { csize = cd.getLong(q); q += 8; }
                    if (local == 0xFFFFFFFFL && q + 8 <= end) { local = cd.getLong(q); }
                }
                x += 4 + len;
            }
            p += 46 + nameLen + extraLen + commentLen;
            if ((flags & 1) != 0) throw new UnsupportedModelException(file + ": zip entry " + name + " is encrypted");
            if (local < 0 || local > size - 30 || csize < 0 || usize < 0) throw BadInputException.inFile(file, "zip entry " + name + " lies outside the file");
            ByteBuffer lh = FileRegions.map(file, ch, local, 30);
            if (lh.getInt(0) != LOCAL) throw BadInputException.inFile(file, "zip entry " + name + " has no local header (corrupt)");
            long data = local + 30 + (lh.getShort(26) & 0xFFFF) + (lh.getShort(28) & 0xFFFF);
            FileRegions.checkRange(file, data, csize, size);
            entries.put(name, new Entry(name, method, csize, usize, data));
        }
        return new ZipDirectory(file, ch, entries);
    }

    /**
     * An entry's bytes: stored entries are mapped in place; deflated ones are inflated onto the heap (at most
     * {@code limit} bytes, checked before allocating).
     */
    ByteBuffer bytes(Entry e, long limit) {
        if (e.method() == 0) {
            if (e.compressedSize() != e.size()) throw BadInputException.inFile(file, "stored zip entry " + e.name() + " has inconsistent sizes");
            return FileRegions.map(file, ch, e.dataOffset(), e.size());
        }
        if (e.method() != 8) throw new UnsupportedModelException(file + ": zip entry " + e.name() + " uses compression method " + e.method());
        if (e.size() > limit || e.size() > Integer.MAX_VALUE - 8) {
            throw BadInputException.inFile(file, "zip entry " + e.name() + " inflates to " + e.size() + " bytes, more than allowed");
        }
        // deflate expands at most ~1032:1, so a declared size beyond that is a lie; checking it keeps a few bytes
        // of directory from making us allocate gigabytes before inflating fails
        if (e.size() > MAX_DEFLATE_RATIO * e.compressedSize() + 64) {
            throw BadInputException.inFile(file, "zip entry " + e.name() + " declares " + e.size() + " bytes, more than its "
                    + e.compressedSize() + " deflated bytes can hold (corrupt)");
        }
        ByteBuffer in = FileRegions.map(file, ch, e.dataOffset(), e.compressedSize());
        byte[] out = new byte[(int) e.size()];
        Inflater inf = new Inflater(true);
        try {
            inf.setInput(in);
            int n = 0;
            while (n < out.length) {
                int k = inf.inflate(out, n, out.length - n);
                if (k == 0 && (inf.finished() || inf.needsInput() || inf.needsDictionary())) break;
                n += k;
            }
            if (n != out.length) throw BadInputException.inFile(file, "zip entry " + e.name() + " inflates to fewer bytes than declared (corrupt)");
        } catch (DataFormatException x) {
            throw BadInputException.inFile(file, "zip entry " + e.name() + " is corrupt: " + x.getMessage());
        } finally {
            inf.end();
        }
        return ByteBuffer.wrap(out);
    }
}
