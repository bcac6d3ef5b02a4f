package dev.tamp.formats.tpk;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.encoding.Layout;
import dev.tamp.core.json.Json;
import dev.tamp.core.tensor.DType;
import dev.tamp.formats.io.AtomicFiles;
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
        write(out, contents.tensors().entrySet(), contents.blobs(), contents.metadata(), false);
    }

    /**
     * Writes tensors produced one at a time (e.g. read, quantized and dropped in turn): each tensor's planes
     * go to a spill file beside the output as soon as it is produced, so memory holds one tensor, not the
     * model. The bytes are identical to {@link #write(Path, TpkContents)} for the same tensors.
     */
    public static void writeStreaming(Path out, Iterable<Map.Entry<String, EncodedTensor>> tensors, Map<String, byte[]> blobs,
                                      ObjectNode metadata) {
        write(out, tensors, blobs, metadata, true);
    }

    private static void write(Path out, Iterable<Map.Entry<String, EncodedTensor>> tensors, Map<String, byte[]> blobs,
                              ObjectNode metadata, boolean spill) {
        AtomicFiles.write(out, tmp -> {
            Path spillFile = spill ? AtomicFiles.temporaryBeside(out, "spill") : null;
            try (FileChannel spillCh = spill ? FileChannel.open(spillFile, StandardOpenOption.READ, StandardOpenOption.WRITE) : null) {
                List<Slot> slots = new ArrayList<>();
                ObjectNode encodings = Json.object();
                List<TpkEntry> one = new ArrayList<>();
                for (Map.Entry<String, EncodedTensor> e : tensors) {
                    if (e.getKey().contains("#") || e.getKey().startsWith(BLOB_PREFIX)) {
                        throw new IllegalArgumentException("tensor name " + e.getKey() + " uses a reserved character or prefix");
                    }
                    one.clear();
                    TensorEntries.encode(e.getKey(), e.getValue(), one, encodings, false);
                    for (TpkEntry t : one) slots.add(spill ? Slot.spilled(t, spillCh) : Slot.inMemory(t));
                }
                for (Map.Entry<String, byte[]> b : blobs.entrySet()) {
                    byte[] v = b.getValue();
                    slots.add(Slot.inMemory(new TpkEntry(BLOB_PREFIX + b.getKey(), TpkFormat.denseTag(DType.U8), Layout.GENERIC.tag(),
                            new long[] {v.length}, TpkFormat.SCALE_NONE, TpkFormat.AUX_NONE, 0, 0, 0,
                            ByteBuffer.wrap(v), TpkEntry.empty(), TpkEntry.empty())));
                }
                ObjectNode meta = metadata == null ? Json.object() : metadata.deepCopy();
                if (encodings.size() > 0) meta.set(ENCODINGS_KEY, encodings);
                writeTo(tmp, slots, Json.canonicalBytes(meta), spillCh);
            } finally {
                if (spillFile != null) AtomicFiles.discard(spillFile);
            }
        });
    }

    /** One plane: its size and CRC, and its bytes in memory or at a position of the spill file. */
    private record Plane(long size, int crc, ByteBuffer memory, long spillPos) {
        static final Plane NONE = new Plane(0, TpkWriter.crc(TpkEntry.empty()), TpkEntry.empty(), -1);
    }

    /** A table entry (its planes dropped once spilled) and its three planes. */
    private record Slot(TpkEntry entry, Plane[] planes) {
        static Slot inMemory(TpkEntry e) {
            ByteBuffer[] b = TpkWriter.planes(e);
            Plane[] p = new Plane[3];
            for (int i = 0; i < 3; i++) p[i] = new Plane(b[i].remaining(), TpkWriter.crc(b[i]), b[i], -1);
            return new Slot(e, p);
        }

        static Slot spilled(TpkEntry e, FileChannel spill) throws IOException {
            ByteBuffer[] b = TpkWriter.planes(e);
            Plane[] p = new Plane[3];
            for (int i = 0; i < 3; i++) {
                if (b[i].remaining() == 0) {
                    p[i] = Plane.NONE;
                    continue;
                }
                long pos = spill.size();
                int crc = TpkWriter.crc(b[i]);
                long size = b[i].remaining();
                ByteBuffer w = b[i].duplicate();
                while (w.hasRemaining()) spill.write(w, pos + (size - w.remaining()));
                p[i] = new Plane(size, crc, null, pos);
            }
            TpkEntry header = new TpkEntry(e.name(), e.format(), e.layout(), e.dims(), e.scaleType(), e.auxType(), e.flags(),
                    e.blockSize(), e.blockAxis(), TpkEntry.empty(), TpkEntry.empty(), TpkEntry.empty());
            return new Slot(header, p);
        }
    }

    private static long align(long v, long a) {
        return (v + a - 1) / a * a;
    }

    private static long planeAlign(long size) {
        return size >= TpkFormat.PAGE_ALIGN_MIN ? TpkFormat.PAGE : TpkFormat.ALIGN;
    }

    private static void writeTo(Path tmp, List<Slot> slots, byte[] metaBytes, FileChannel spill) throws IOException {
        int n = slots.size();
        // String pool
        ByteBuffer names;
        long[] nameOff = new long[n];
        int[] nameLen = new int[n];
        {
            List<byte[]> enc = new ArrayList<>();
            long total = 0;
            for (int i = 0; i < n; i++) {
                byte[] b = slots.get(i).entry().name().getBytes(StandardCharsets.UTF_8);
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
            Plane[] planes = slots.get(i).planes();
            for (int p = 0; p < 3; p++) {
                long size = planes[p].size();
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
            TpkEntry e = slots.get(i).entry();
            Plane[] planes = slots.get(i).planes();
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
                table.putLong(base + 56 + 16 * p, planes[p].size() == 0 ? 0 : planeOff[i][p]);
                table.putLong(base + 64 + 16 * p, planes[p].size());
                table.putInt(base + 104 + 4 * p, planes[p].crc());
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
                Plane[] planes = slots.get(i).planes();
                for (int p = 0; p < 3; p++) {
                    if (planes[p].size() == 0) continue;
                    sink.padTo(planeOff[i][p]);
                    if (planes[p].memory() != null) {
                        sink.write(planes[p].memory().duplicate());
                    } else {
                        sink.copy(spill, planes[p].spillPos(), planes[p].size());
                    }
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

        /** Copies {@code size} bytes from {@code src} at {@code pos}, through a reused 1 MiB buffer. */
        void copy(FileChannel src, long pos, long size) throws IOException {
            ByteBuffer buf = ByteBuffer.allocate((int) Math.min(1 << 20, size));
            for (long done = 0; done < size; ) {
                buf.clear().limit((int) Math.min(buf.capacity(), size - done));
                int r = src.read(buf, pos + done);
                if (r < 0) throw new IOException("spill file ended early");
                done += r;
                buf.flip();
                write(buf);
            }
        }

        void padTo(long target) throws IOException {
            if (target < pos) throw new IllegalStateException("layout error: " + target + " < " + pos);
            if (target > pos) write(ByteBuffer.allocate((int) (target - pos)));
        }
    }
}
