package dev.tamp.formats.tpk;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.encoding.Layout;
import dev.tamp.core.json.Json;
import dev.tamp.core.tensor.DType;
import dev.tamp.formats.AtomicFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * Writes a .tpk in one sequential pass: every plane's size and CRC is known before the first byte is
 * written, so the header and table go out first and the planes stream after them straight from their
 * (possibly memory-mapped) buffers; the SHA-256 footer is computed over the bytes as they are written.
 * Output goes to a temporary file renamed into place. No clock, no paths, canonical JSON: identical
 * contents give identical bytes.
 */
public final class TpkWriter {
    /** Name prefix of entries that hold blobs (graph, tokenizer), not tensors. */
    public static final String BLOB_PREFIX = "__tamp__/";
    /** Metadata key under which per-tensor encoding parameters are stored. */
    public static final String ENCODINGS_KEY = "encodings";

    private TpkWriter() {}

    public static void write(Path out, TpkContents contents) {
        List<TpkEntry> entries = new ArrayList<>();
        ObjectNode encodings = Json.object();
        for (Map.Entry<String, EncodedTensor> e : contents.tensors().entrySet()) {
            if (e.getKey().contains("#") || e.getKey().startsWith(BLOB_PREFIX)) {
                throw new IllegalArgumentException("tensor name " + e.getKey() + " uses a reserved character or prefix");
            }
            TensorEntries.encode(e.getKey(), e.getValue(), entries, encodings, false);
        }
        for (Map.Entry<String, byte[]> b : contents.blobs().entrySet()) {
            byte[] v = b.getValue();
            entries.add(new TpkEntry(BLOB_PREFIX + b.getKey(), TpkFormat.denseTag(DType.U8), Layout.GENERIC.tag(),
                    new long[] {v.length}, TpkFormat.SCALE_NONE, TpkFormat.AUX_NONE, 0, 0, 0,
                    ByteBuffer.wrap(v), TpkEntry.empty(), TpkEntry.empty()));
        }
        ObjectNode meta = contents.metadata() == null ? Json.object() : contents.metadata().deepCopy();
        if (encodings.size() > 0) meta.set(ENCODINGS_KEY, encodings);
        byte[] metaBytes = Json.canonicalBytes(meta);
        AtomicFiles.write(out, tmp -> writeTo(tmp, entries, metaBytes));
    }

    private static long align(long v, long a) {
        return (v + a - 1) / a * a;
    }

    private static long planeAlign(long size) {
        return size >= TpkFormat.PAGE_ALIGN_MIN ? TpkFormat.PAGE : TpkFormat.ALIGN;
    }

    private static void writeTo(Path tmp, List<TpkEntry> entries, byte[] metaBytes) throws IOException {
        int n = entries.size();
        // String pool
        ByteBuffer names;
        long[] nameOff = new long[n];
        int[] nameLen = new int[n];
        {
            List<byte[]> enc = new ArrayList<>();
            long total = 0;
            for (int i = 0; i < n; i++) {
                byte[] b = entries.get(i).name().getBytes(StandardCharsets.UTF_8);
                enc.add(b);
                nameOff[i] = total;
                nameLen[i] = b.length;
                total += b.length;
            }
            names = ByteBuffer.allocate(Math.toIntExact(total));
            for (byte[] b : enc) names.put(b);
            names.flip();
        }
        // Layout: header, table, data planes, metadata, strings, footer.
        long tableOff = TpkFormat.HEADER_BYTES;
        long dataOff = align(tableOff + (long) n * TpkFormat.ENTRY_BYTES, TpkFormat.ALIGN);
        long pos = dataOff;
        long[][] planeOff = new long[n][3];
        for (int i = 0; i < n; i++) {
            ByteBuffer[] planes = planes(entries.get(i));
            for (int p = 0; p < 3; p++) {
                long size = planes[p].remaining();
                if (size == 0) continue;
                pos = align(pos, planeAlign(size));
                planeOff[i][p] = pos;
                pos += size;
            }
        }
        long dataLen = pos - dataOff;
        long metaOff = align(pos, TpkFormat.ALIGN);
        long stringsOff = align(metaOff + metaBytes.length, TpkFormat.ALIGN);
        long footerOff = align(stringsOff + names.remaining(), TpkFormat.ALIGN);
        long fileBytes = footerOff + TpkFormat.FOOTER_BYTES;

        ByteBuffer table = ByteBuffer.allocate(n * TpkFormat.ENTRY_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            TpkEntry e = entries.get(i);
            ByteBuffer[] planes = planes(e);
            int base = i * TpkFormat.ENTRY_BYTES;
            table.putInt(base, (int) nameOff[i]);
            table.putInt(base + 4, nameLen[i]);
            table.putShort(base + 8, (short) e.format());
            table.putShort(base + 10, (short) e.layout());
            long[] dims = e.dims();
            table.put(base + 12, (byte) (dims.length <= 4 ? dims.length : 0xFF));
            table.put(base + 13, (byte) e.scaleType());
            table.put(base + 14, (byte) e.auxType());
            table.put(base + 15, (byte) e.flags());
            for (int d = 0; d < Math.min(4, dims.length); d++) table.putLong(base + 16 + 8 * d, dims.length <= 4 ? dims[d] : 0);
            table.putInt(base + 48, e.blockSize());
            table.put(base + 52, (byte) e.blockAxis());
            table.put(base + 53, (byte) 1);
            table.putShort(base + 54, (short) 0);
            for (int p = 0; p < 3; p++) {
                table.putLong(base + 56 + 16 * p, planes[p].remaining() == 0 ? 0 : planeOff[i][p]);
                table.putLong(base + 64 + 16 * p, planes[p].remaining());
                table.putInt(base + 104 + 4 * p, crc(planes[p]));
            }
            table.putInt(base + 116, 0xFFFFFFFF);
            table.putInt(base + 120, 0);
            table.putInt(base + 124, crc(table.duplicate().position(base).limit(base + 124)));
        }
        ByteBuffer header = ByteBuffer.allocate(TpkFormat.HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        header.put(TpkFormat.MAGIC);
        header.putShort(8, (short) TpkFormat.MAJOR);
        header.putShort(10, (short) TpkFormat.MINOR);
        header.putInt(12, TpkFormat.HEADER_BYTES);
        header.putInt(16, TpkFormat.FLAG_FOOTER_SHA256 | TpkFormat.FLAG_PAGE_ALIGN);
        header.putInt(20, TpkFormat.ALIGN);
        header.putLong(24, fileBytes);
        header.putLong(32, metaOff);
        header.putLong(40, metaBytes.length);
        header.putLong(48, stringsOff);
        header.putLong(56, names.remaining());
        header.putLong(64, tableOff);
        header.putInt(72, n);
        header.putInt(76, TpkFormat.ENTRY_BYTES);
        header.putLong(80, dataOff);
        header.putLong(88, dataLen);
        header.putInt(124, crc(header.duplicate().position(0).limit(124)));

        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            Sink sink = new Sink(ch);
            sink.write(header.duplicate().clear());
            sink.write(table.duplicate().clear());
            for (int i = 0; i < n; i++) {
                ByteBuffer[] planes = planes(entries.get(i));
                for (int p = 0; p < 3; p++) {
                    if (planes[p].remaining() == 0) continue;
                    sink.padTo(planeOff[i][p]);
                    sink.write(planes[p].duplicate());
                }
            }
            sink.padTo(metaOff);
            sink.write(ByteBuffer.wrap(metaBytes));
            sink.padTo(stringsOff);
            sink.write(names.duplicate());
            sink.padTo(footerOff);
            byte[] sha = sink.digest.digest();
            ByteBuffer footer = ByteBuffer.allocate(TpkFormat.FOOTER_BYTES);
            footer.put(sha).put(TpkFormat.END_MAGIC).flip();
            while (footer.hasRemaining()) ch.write(footer);
        }
    }

    static ByteBuffer[] planes(TpkEntry e) {
        return new ByteBuffer[] {e.data().duplicate(), e.scales().duplicate(), e.aux().duplicate()};
    }

    static int crc(ByteBuffer b) {
        CRC32C c = new CRC32C();
        c.update(b.duplicate());
        return (int) c.getValue();
    }

    /** Sequential writer that hashes everything it writes and zero-pads to aligned offsets. */
    private static final class Sink {
        final FileChannel ch;
        final MessageDigest digest;
        long pos;

        Sink(FileChannel ch) {
            this.ch = ch;
            try {
                this.digest = MessageDigest.getInstance("SHA-256");
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }

        void write(ByteBuffer b) throws IOException {
            digest.update(b.duplicate());
            pos += b.remaining();
            while (b.hasRemaining()) ch.write(b);
        }

        void padTo(long target) throws IOException {
            if (target < pos) throw new IllegalStateException("layout error: " + target + " < " + pos);
            if (target > pos) write(ByteBuffer.allocate((int) (target - pos)));
        }
    }
}
