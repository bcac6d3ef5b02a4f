package dev.tamp.formats.fuzz;

import dev.tamp.formats.fuzz.Mutations.Field;
import dev.tamp.formats.fuzz.Mutations.Mutant;
import dev.tamp.formats.fuzz.Mutations.Mutator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * PyTorch zip seeds: the torch-written fixtures (small.pt, proto4.pt, nested.pt) and archives built here
 * around a generated pickle (a contiguous tensor, a transposed view of the same storage, an offset view),
 * stored and deflated. Mutations write boundary values into the zip's directory fields and the pickle's
 * bytes, and regenerate the pickle with lying numel/offset/size/stride, missing or escaping storage keys,
 * forbidden globals, duplicate names, deep nesting and self-references.
 */
final class PyTorchSeeds {
    private PyTorchSeeds() {}

    /** One tensor of the generated pickle. */
    record T(String name, String storageType, String key, long numel, long offset, long[] size, long[] stride) {}

    static List<T> tensors() {
        return List.of(new T("w", "FloatStorage", "0", 6, 0, new long[] {2, 3}, new long[] {3, 1}),
                new T("wt", "FloatStorage", "0", 6, 0, new long[] {3, 2}, new long[] {1, 3}),
                new T("b", "HalfStorage", "1", 4, 1, new long[] {3}, new long[] {1}));
    }

    private static final class P {
        final ByteArrayOutputStream o = new ByteArrayOutputStream();
        P op(int c) { o.write(c); return this; }
        P str(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            op('X');
            o.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(b.length).array());
            o.writeBytes(b);
            return this;
        }
        P global(String module, String name) { op('c'); o.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.US_ASCII)); return this; }
        P num(long v) { op(0x8a).op(8); o.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array()); return this; }
        P tuple(long[] v) { op('('); for (long x : v) num(x); return op('t'); }
    }

    /** The pickle of {name: tensor, ...}, nested {@code depth} dicts deep; {@code selfRef} adds a dict holding itself. */
    static byte[] pickle(List<T> ts, int depth, boolean selfRef) {
        P p = new P().op(0x80).op(2);
        for (int d = 0; d < depth; d++) p.op('}').str("level" + d);
        p.op('}');
        if (selfRef) p.op('q').op(7);
        p.op('(');
        for (T t : ts) {
            p.str(t.name()).global("torch._utils", "_rebuild_tensor_v2").op('(');
            p.op('(').str("storage").global("torch", t.storageType()).str(t.key()).str("cpu").num(t.numel()).op('t').op('Q');
            p.num(t.offset()).tuple(t.size()).tuple(t.stride()).op(0x89).global("collections", "OrderedDict").op(')').op('R');
            p.op('t').op('R');
        }
        if (selfRef) p.str("me").op('h').op(7);
        p.op('u');
        for (int d = 0; d < depth; d++) p.op('s');
        return p.op('.').o.toByteArray();
    }

    static byte[] storage(String key, int bytes) {
        byte[] b = new byte[bytes];
        for (int i = 0; i < bytes; i++) b[i] = (byte) (key.hashCode() + 17 * i);
        return b;
    }

    static byte[] zip(byte[] pickle, boolean deflate) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream z = new ZipOutputStream(bytes)) {
            entry(z, "archive/data.pkl", pickle, deflate);
            entry(z, "archive/byteorder", "little".getBytes(StandardCharsets.US_ASCII), deflate);
            entry(z, "archive/data/0", storage("0", 24), deflate);
            entry(z, "archive/data/1", storage("1", 8), deflate);
            entry(z, "archive/version", "3\n".getBytes(StandardCharsets.US_ASCII), deflate);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    private static void entry(ZipOutputStream z, String name, byte[] content, boolean deflate) throws IOException {
        ZipEntry e = new ZipEntry(name);
        if (!deflate) {
            e.setMethod(ZipEntry.STORED);
            e.setSize(content.length);
            CRC32 c = new CRC32();
            c.update(content);
            e.setCrc(c.getValue());
        }
        z.putNextEntry(e);
        z.write(content);
        z.closeEntry();
    }

    /** The zip's size, offset, count and length fields, found by their record signatures. */
    static List<Field> zipFields(byte[] s) {
        List<Field> f = new ArrayList<>();
        ByteBuffer b = ByteBuffer.wrap(s).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i + 4 <= s.length; i++) {
            int sig = b.getInt(i);
            if (sig == 0x02014b50 && i + 46 <= s.length) {
                f.addAll(List.of(new Field("central.method", i + 10, 2), new Field("central.csize", i + 20, 4),
                        new Field("central.usize", i + 24, 4), new Field("central.name_len", i + 28, 2),
                        new Field("central.extra_len", i + 30, 2), new Field("central.comment_len", i + 32, 2),
                        new Field("central.local_offset", i + 42, 4), new Field("central.flags", i + 8, 2)));
            } else if (sig == 0x04034b50 && i + 30 <= s.length) {
                f.addAll(List.of(new Field("local.name_len", i + 26, 2), new Field("local.extra_len", i + 28, 2)));
            } else if (sig == 0x06054b50 && i + 22 <= s.length) {
                f.addAll(List.of(new Field("eocd.count", i + 10, 2), new Field("eocd.cd_size", i + 12, 4),
                        new Field("eocd.cd_offset", i + 16, 4), new Field("eocd.comment_len", i + 20, 2)));
            }
        }
        return f;
    }

    /** [start, end) of data.pkl's bytes in the archive, from its local header. */
    static int[] pickleRegion(byte[] s) {
        ByteBuffer b = ByteBuffer.wrap(s).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i + 30 <= s.length; i++) {
            if (b.getInt(i) != 0x04034b50) continue;
            int nameLen = b.getShort(i + 26) & 0xFFFF, extraLen = b.getShort(i + 28) & 0xFFFF;
            String name = new String(s, i + 30, nameLen, StandardCharsets.UTF_8);
            if (name.endsWith("data.pkl")) {
                int start = i + 30 + nameLen + extraLen;
                int size = b.getInt(i + 18);
                return new int[] {start, Math.min(s.length, start + Math.max(size, 1))};
            }
        }
        return new int[] {0, s.length};
    }

    private static final String[] STORAGE_TYPES = {"FloatStorage", "HalfStorage", "LongStorage", "BoolStorage", "ByteStorage",
            "UntypedStorage", "float32", "Size", "system"};
    private static final String[] KEYS = {"0", "1", "2", "../0", "", "data/0", "0\u0000", "0\n1"};

    static long[] withBoundary(long[] v, SplittableRandom r) {
        long[] c = v.clone();
        long[] values = {-1, 0, 1, 1L << 20, 1L << 26, 1L << 29, 1L << 31, 1L << 32, 1L << 40, 1L << 61, 1L << 62, Long.MAX_VALUE, Long.MIN_VALUE, 3, 6};
        long b = values[r.nextInt(values.length)];
        if (c.length > 0 && r.nextInt(5) > 0) c[r.nextInt(c.length)] = b;
        else { c = java.util.Arrays.copyOf(c, c.length + 1); c[c.length - 1] = b; }
        return c;
    }

    /** Regenerates the pickle with one lie, for a stored or deflated archive. */
    static Mutator generated(boolean deflate) {
        return (s, r) -> {
            List<T> ts = new ArrayList<>(tensors());
            int i = r.nextInt(ts.size());
            T t = ts.get(i);
            long big = Mutations.boundary(r, 24);
            String what;
            int depth = 0;
            boolean self = false;
            switch (r.nextInt(10)) {
                case 0 -> { t = new T(t.name(), t.storageType(), t.key(), big, t.offset(), t.size(), t.stride()); what = "numel " + big; }
                case 1 -> { t = new T(t.name(), t.storageType(), t.key(), t.numel(), big, t.size(), t.stride()); what = "offset " + big; }
                case 2 -> {
                    long[] sz = withBoundary(t.size(), r);
                    t = new T(t.name(), t.storageType(), t.key(), t.numel(), t.offset(), sz, r.nextBoolean() ? t.stride() : new long[sz.length]);
                    what = "size " + java.util.Arrays.toString(sz) + " stride " + java.util.Arrays.toString(t.stride());
                }
                case 3 -> {
                    long[] st = withBoundary(t.stride(), r);
                    t = new T(t.name(), t.storageType(), t.key(), t.numel(), t.offset(), t.size(), st);
                    what = "stride " + java.util.Arrays.toString(st);
                }
                case 4 -> {
                    String k = KEYS[r.nextInt(KEYS.length)];
                    t = new T(t.name(), t.storageType(), k, t.numel(), t.offset(), t.size(), t.stride());
                    what = "storage key '" + k + "'";
                }
                case 5 -> {
                    String st = STORAGE_TYPES[r.nextInt(STORAGE_TYPES.length)];
                    t = new T(t.name(), st, t.key(), t.numel(), t.offset(), t.size(), t.stride());
                    what = "storage type " + st;
                }
                case 6 -> { t = new T(ts.get((i + 1) % ts.size()).name(), t.storageType(), t.key(), t.numel(), t.offset(), t.size(), t.stride()); what = "duplicate name"; }
                case 7 -> { depth = r.nextInt(1, 200); what = "nested " + depth + " dicts deep"; }
                case 8 -> { self = true; what = "dict holding itself"; }
                default -> {
                    // a name with a line break, on a view that reaches past its storage
                    t = new T("w\nx", t.storageType(), t.key(), t.numel(), t.offset() + 100, t.size(), t.stride());
                    what = "control characters in a name";
                }
            }
            ts.set(i, t);
            return new Mutant(zip(pickle(ts, depth, self), deflate), "pickle: tensor " + i + " " + what);
        };
    }

    static List<Mutator> byteMutators(byte[] seed) {
        List<Field> fields = zipFields(seed);
        int[] pk = pickleRegion(seed);
        List<Mutator> m = new ArrayList<>();
        m.add(Mutations.fields(fields));
        m.add((s, r) -> {
            byte[] c = s.clone();
            int at = r.nextInt(pk[0], pk[1]);
            int kind = r.nextInt(3);
            if (kind == 0) c[at] = (byte) r.nextInt(256);
            else c = Mutations.put(c, at, 4, kind == 1 ? -1 : 0x7FFFFFFF);
            return new Mutant(c, "pickle byte " + (at - pk[0]) + " overwritten (" + kind + ")");
        });
        return m;
    }

    static List<FuzzSeed> seeds() {
        List<FuzzSeed> out = new ArrayList<>();
        for (String f : new String[] {"small.pt", "proto4.pt", "nested.pt"}) {
            try (InputStream in = PyTorchSeeds.class.getResourceAsStream("/pytorch/" + f)) {
                byte[] b = in.readAllBytes();
                out.add(FuzzSeed.single("pytorch-" + f, "seed.pt", b, byteMutators(b)));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        for (boolean deflate : new boolean[] {false, true}) {
            byte[] b = zip(pickle(tensors(), 0, false), deflate);
            List<Mutator> m = new ArrayList<>(byteMutators(b));
            m.add(generated(deflate));
            m.add(generated(deflate));
            out.add(FuzzSeed.single("pytorch-generated-" + (deflate ? "deflated" : "stored"), "seed.pt", b, m));
        }
        return out;
    }
}
