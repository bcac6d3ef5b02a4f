package dev.tamp.formats.tpk;

import dev.tamp.core.error.BadInputException;
import dev.tamp.formats.io.FileRegions;
import dev.tamp.formats.io.MessageText;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Opens and fully verifies a .tpk: header CRC, version and must-understand flags, every table entry's CRC
 * and bounds, every plane's CRC (so corruption is reported with the tensor it hit), and finally the SHA-256
 * footer over the whole file. Every offset is checked against the file size before it is used, so a lying
 * table cannot cause a huge allocation. Planes are memory-mapped, never copied.
 */
public final class TpkReader {
    private TpkReader() {}

    public static TpkFile open(Path path) {
        return MessageText.oneLine(() -> openChecked(path));
    }

    private static TpkFile openChecked(Path path) {
        long size = FileRegions.size(path);
        if (size == 0) throw BadInputException.inFile(path, "empty file");
        if (size < TpkFormat.HEADER_BYTES + TpkFormat.FOOTER_BYTES) {
            throw BadInputException.inFile(path, "truncated .tpk (" + size + " bytes)");
        }
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            ByteBuffer h = FileRegions.map(path, ch, 0, TpkFormat.HEADER_BYTES);
            byte[] magic = new byte[8];
            h.duplicate().get(magic);
            if (!Arrays.equals(magic, TpkFormat.MAGIC)) throw BadInputException.inFile(path, "not a .tpk file (bad magic)");
            if (TpkWriter.crc(h.duplicate().position(0).limit(124)) != h.getInt(124)) {
                throw BadInputException.inFile(path, "corrupt .tpk: header checksum mismatch");
            }
            int major = h.getShort(8) & 0xFFFF, minor = h.getShort(10) & 0xFFFF;
            if (major > TpkFormat.MAJOR) {
                throw BadInputException.inFile(path, ".tpk format " + major + "." + minor + " is newer than this tamp reads ("
                        + TpkFormat.MAJOR + "." + TpkFormat.MINOR + "); upgrade tamp");
            }
            int flags = h.getInt(16);
            if ((flags & TpkFormat.MUST_UNDERSTAND_MASK) != 0) {
                throw BadInputException.inFile(path, ".tpk uses features this tamp does not understand (flags 0x" + Integer.toHexString(flags) + ")");
            }
            if (h.getInt(12) != TpkFormat.HEADER_BYTES || h.getInt(76) != TpkFormat.ENTRY_BYTES) {
                throw BadInputException.inFile(path, "corrupt .tpk: unexpected header or entry size");
            }
            long fileBytes = h.getLong(24);
            if (fileBytes != size) {
                throw BadInputException.inFile(path, (size < fileBytes ? "truncated" : "oversized") + " .tpk: header says "
                        + fileBytes + " bytes, file has " + size);
            }
            ByteBuffer footer = FileRegions.map(path, ch, size - TpkFormat.FOOTER_BYTES, TpkFormat.FOOTER_BYTES);
            byte[] endMagic = new byte[8];
            footer.duplicate().position(32).get(endMagic);
            if (!Arrays.equals(endMagic, TpkFormat.END_MAGIC)) throw BadInputException.inFile(path, "truncated .tpk (no footer)");

            long metaOff = h.getLong(32), metaLen = h.getLong(40), strOff = h.getLong(48), strLen = h.getLong(56);
            long tableOff = h.getLong(64);
            long count = h.getInt(72) & 0xFFFFFFFFL;
            FileRegions.checkRange(path, tableOff, count * TpkFormat.ENTRY_BYTES, size);
            FileRegions.checkRange(path, metaOff, metaLen, size);
            FileRegions.checkRange(path, strOff, strLen, size);
            ByteBuffer table = FileRegions.map(path, ch, tableOff, count * TpkFormat.ENTRY_BYTES);
            ByteBuffer strings = FileRegions.map(path, ch, strOff, strLen);
            List<TpkEntry> entries = new ArrayList<>();
            for (int i = 0; i < count; i++) entries.add(entry(path, ch, table, i, strings, size));
            byte[] meta = new byte[Math.toIntExact(metaLen)];
            FileRegions.map(path, ch, metaOff, metaLen).get(meta);
            verifySha(path, ch, size, footer);
            return new TpkFile(path, major, minor, entries, meta);
        } catch (IOException e) {
            throw BadInputException.inFile(path, "cannot read: " + e.getMessage(), e);
        }
    }

    private static TpkEntry entry(Path path, FileChannel ch, ByteBuffer table, int i, ByteBuffer strings, long size) {
        int base = i * TpkFormat.ENTRY_BYTES;
        ByteBuffer t = table.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        if (TpkWriter.crc(t.duplicate().position(base).limit(base + 124)) != t.getInt(base + 124)) {
            throw BadInputException.inFile(path, "corrupt .tpk: table entry " + i + " checksum mismatch");
        }
        long nameOff = t.getInt(base) & 0xFFFFFFFFL, nameLen = t.getInt(base + 4) & 0xFFFFFFFFL;
        if (nameOff + nameLen > strings.capacity()) throw BadInputException.inFile(path, "corrupt .tpk: entry " + i + " name out of range");
        byte[] nb = new byte[(int) nameLen];
        strings.duplicate().position((int) nameOff).get(nb);
        String name;
        try {
            name = StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(nb)).toString();
        } catch (CharacterCodingException e) {
            throw BadInputException.inFile(path, "corrupt .tpk: entry " + i + " name is not UTF-8");
        }
        int rank = t.get(base + 12) & 0xFF;
        long[] dims = new long[rank == 0xFF ? 0 : Math.min(rank, 4)];
        if (rank > 4 && rank != 0xFF) throw BadInputException.inFile(path, "corrupt .tpk: tensor " + name + " has rank " + rank);
        for (int d = 0; d < dims.length; d++) {
            dims[d] = t.getLong(base + 16 + 8 * d);
            if (dims[d] < 0) throw BadInputException.inFile(path, "corrupt .tpk: tensor " + name + " has a negative dimension");
        }
        ByteBuffer[] planes = new ByteBuffer[3];
        for (int p = 0; p < 3; p++) {
            long off = t.getLong(base + 56 + 16 * p), len = t.getLong(base + 64 + 16 * p);
            FileRegions.checkRange(path, off, len, size);
            planes[p] = FileRegions.map(path, ch, off, len);
            if (TpkWriter.crc(planes[p]) != t.getInt(base + 104 + 4 * p)) {
                throw BadInputException.inFile(path, "corrupt .tpk: tensor " + name + " fails its checksum ("
                        + new String[] {"data", "scales", "aux"}[p] + " plane)");
            }
        }
        return new TpkEntry(name, t.getShort(base + 8) & 0xFFFF, t.getShort(base + 10) & 0xFFFF, dims,
                t.get(base + 13) & 0xFF, t.get(base + 14) & 0xFF, t.get(base + 15) & 0xFF,
                t.getInt(base + 48), t.get(base + 52) & 0xFF, planes[0], planes[1], planes[2]);
    }

    private static void verifySha(Path path, FileChannel ch, long size, ByteBuffer footer) throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        long end = size - TpkFormat.FOOTER_BYTES;
        for (long off = 0; off < end; off += 1 << 30) {
            md.update(FileRegions.map(path, ch, off, Math.min(1L << 30, end - off)));
        }
        byte[] want = new byte[32];
        footer.duplicate().position(0).get(want);
        if (!Arrays.equals(md.digest(), want)) throw BadInputException.inFile(path, "corrupt .tpk: SHA-256 footer mismatch");
    }
}
