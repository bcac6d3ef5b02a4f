package dev.tamp.formats.fuzz;

import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.encoding.IntGroupedWeight;
import dev.tamp.core.encoding.Layout;
import dev.tamp.core.encoding.LowRankWeight;
import dev.tamp.core.encoding.MxFormat;
import dev.tamp.core.encoding.MxWeight;
import dev.tamp.core.encoding.Sparse24Weight;
import dev.tamp.core.ir.Attribute;
import dev.tamp.core.ir.Graph;
import dev.tamp.core.ir.Model;
import dev.tamp.core.ir.ModelFormat;
import dev.tamp.core.ir.Node;
import dev.tamp.core.ir.ProvenanceStep;
import dev.tamp.core.ir.ValueInfo;
import dev.tamp.core.tensor.DType;
import dev.tamp.core.tensor.Tensor;
import dev.tamp.formats.TpkModelWriter;
import dev.tamp.formats.fuzz.Mutations.Field;
import dev.tamp.formats.fuzz.Mutations.Mutant;
import dev.tamp.formats.fuzz.Mutations.Mutator;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * A .tpk seed written by tamp's own writer (graph blob, tokenizer blob, dense, int4/int8 groups with zero
 * points and input scales, MX, 2:4 sparse and low-rank weights). Every part of a .tpk is checksummed, so
 * most mutations are re-sealed afterwards (plane, entry and header CRCs and the SHA-256 footer recomputed):
 * the lie then reaches the structural checks behind the checksums instead of stopping at the first one.
 */
final class TpkSeeds {
    private TpkSeeds() {}

    static final int HEADER = 128, ENTRY = 128, FOOTER = 40;

    static Model model() {
        java.util.SplittableRandom r = new java.util.SplittableRandom(5);
        Map<String, EncodedTensor> w = new LinkedHashMap<>();
        float[] v = new float[6 * 10];
        for (int i = 0; i < v.length; i++) v[i] = (float) r.nextGaussian();
        w.put("dense", new DenseWeight(Tensor.ofFloats(v, 6, 10)));
        w.put("ids", new DenseWeight(Tensor.ofLongs(new long[] {1, -1, 7}, 3)));
        w.put("int4", new IntGroupedWeight(new long[] {40, 3}, 0, 4, false, 32, bytes(r, 3 * 20),
                Tensor.ofFloats(new float[] {1, 2, 3, 4, 5, 6}, 3, 2), Tensor.ofBytes(DType.U8, new byte[6], 3, 2), null, 0, 0f, Layout.GENERIC));
        w.put("int8", new IntGroupedWeight(new long[] {2, 16}, 1, 8, true, 16, bytes(r, 32),
                Tensor.ofFloats(new float[] {0.5f, 0.25f}, 2, 1), null, Tensor.ofFloats(new float[16], 16), 8, 0.125f, Layout.GENERIC));
        w.put("mx", new MxWeight(new long[] {2, 40}, 1, MxFormat.MXFP4_E2M1, 32, bytes(r, 2 * 32), bytes(r, 4),
                MxFormat.MXFP8_E4M3, Layout.GENERIC));
        w.put("sparse", new Sparse24Weight(new long[] {2, 8}, 1, new DenseWeight(Tensor.ofFloats(new float[8], 2, 4)), bytes(r, 2), Layout.GENERIC));
        w.put("lowrank", new LowRankWeight(new long[] {4, 6}, 1, new DenseWeight(Tensor.ofFloats(new float[8], 4, 2)),
                new DenseWeight(Tensor.ofFloats(new float[12], 2, 6))));
        Graph g = new Graph("g", List.of(new Node("mm", "MatMul", "", List.of("x", "dense"), List.of("y"),
                Map.of("alpha", new Attribute.Float(0.5f), "axes", new Attribute.Ints(new long[] {0, -1})))),
                List.of(new ValueInfo("x", DType.F32, List.of(ValueInfo.Dim.symbolic("batch"), ValueInfo.Dim.fixed(6)))),
                List.of(new ValueInfo("y", DType.F32, null)));
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("hidden_size", 6L);
        config.put("model_type", "bert");
        return new Model(ModelFormat.ONNX, "seed.onnx", "bert", g, w, config, Map.of("", 17L),
                "{\"model\":{}}".getBytes(StandardCharsets.UTF_8), List.of(new ProvenanceStep("quantize", Map.of("bits", "4"), "tamp test")));
    }

    private static ByteBuffer bytes(java.util.SplittableRandom r, int n) {
        byte[] b = new byte[n];
        r.nextBytes(b);
        return ByteBuffer.wrap(b);
    }

    static byte[] seed() {
        try {
            Path dir = Files.createTempDirectory("tamp-fuzz-tpk");
            Path p = dir.resolve("seed.tpk");
            TpkModelWriter.write(model(), p);
            byte[] b = Files.readAllBytes(p);
            Files.delete(p);
            Files.delete(dir);
            return b;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static ByteBuffer le(byte[] b) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
    }

    static int crc(byte[] b, long off, long len) {
        CRC32C c = new CRC32C();
        c.update(b, (int) off, (int) len);
        return (int) c.getValue();
    }

    static boolean inside(long off, long len, long size) {
        return off >= 0 && len >= 0 && off <= size && len <= size - off;
    }

    /** Recomputes every checksum it can still locate, so a structural lie is not caught by a checksum first. */
    static byte[] reseal(byte[] in) {
        byte[] b = in.clone();
        if (b.length < HEADER + FOOTER) return b;
        ByteBuffer h = le(b);
        long tableOff = h.getLong(64), count = h.getInt(72) & 0xFFFFFFFFL;
        if (inside(tableOff, count * ENTRY, b.length) && count < 10_000) {
            for (int i = 0; i < count; i++) {
                int base = (int) (tableOff + (long) i * ENTRY);
                for (int p = 0; p < 3; p++) {
                    long off = h.getLong(base + 56 + 16 * p), len = h.getLong(base + 64 + 16 * p);
                    if (inside(off, len, b.length)) h.putInt(base + 104 + 4 * p, crc(b, off, len));
                }
                h.putInt(base + 124, crc(b, base, 124));
            }
        }
        h.putInt(124, crc(b, 0, 124));
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(b, 0, b.length - FOOTER);
            System.arraycopy(md.digest(), 0, b, b.length - FOOTER, 32);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        return b;
    }

    /** Header and table fields (sizes, offsets, counts, dims, tags) of the seed. */
    static List<Field> fields(byte[] s) {
        List<Field> f = new ArrayList<>(List.of(new Field("major", 8, 2), new Field("flags", 16, 4), new Field("file_bytes", 24, 8),
                new Field("meta_off", 32, 8), new Field("meta_len", 40, 8), new Field("strings_off", 48, 8), new Field("strings_len", 56, 8),
                new Field("table_off", 64, 8), new Field("entry_count", 72, 4), new Field("entry_bytes", 76, 4)));
        ByteBuffer h = le(s);
        long tableOff = h.getLong(64);
        int count = h.getInt(72);
        for (int i = 0; i < count; i++) {
            int base = (int) (tableOff + (long) i * ENTRY);
            String e = "entry" + i + ".";
            f.addAll(List.of(new Field(e + "name_off", base, 4), new Field(e + "name_len", base + 4, 4), new Field(e + "format", base + 8, 2),
                    new Field(e + "layout", base + 10, 2), new Field(e + "rank", base + 12, 1), new Field(e + "scale_type", base + 13, 1),
                    new Field(e + "aux_type", base + 14, 1), new Field(e + "flags", base + 15, 1), new Field(e + "block_size", base + 48, 4),
                    new Field(e + "block_axis", base + 52, 1)));
            for (int d = 0; d < 4; d++) f.add(new Field(e + "dim" + d, base + 16 + 8 * d, 8));
            for (int p = 0; p < 3; p++) {
                f.add(new Field(e + "plane" + p + ".off", base + 56 + 16 * p, 8));
                f.add(new Field(e + "plane" + p + ".len", base + 64 + 16 * p, 8));
            }
        }
        return f;
    }

    /** Replaces the metadata JSON (any length): metadata, strings and footer move, the header follows. */
    static byte[] withMetadata(byte[] s, byte[] meta) {
        ByteBuffer h = le(s);
        long metaOff = h.getLong(32), strOff = h.getLong(48), strLen = h.getLong(56);
        byte[] strings = Arrays.copyOfRange(s, (int) strOff, (int) (strOff + strLen));
        long newStrOff = (metaOff + meta.length + 63) / 64 * 64;
        long footerOff = (newStrOff + strings.length + 63) / 64 * 64;
        byte[] out = Arrays.copyOf(s, (int) (footerOff + FOOTER));
        Arrays.fill(out, (int) metaOff, out.length, (byte) 0);
        System.arraycopy(meta, 0, out, (int) metaOff, meta.length);
        System.arraycopy(strings, 0, out, (int) newStrOff, strings.length);
        System.arraycopy(s, s.length - 8, out, out.length - 8, 8); // end magic
        ByteBuffer o = le(out);
        o.putLong(24, out.length).putLong(40, meta.length).putLong(48, newStrOff);
        return reseal(out);
    }

    static final List<String> STRINGS = List.of("\"dense\"", "\"int4\"", "\"mxfp8\"", "\"NOPE\"", "\"\"", "\"shape\"", "\"scales_shape\"",
            "\"anchor\"", "\"encodings\"", "\"model\"", "\"config\"", "\"provenance\"", "\"opsets\"", "\"sparsity\"", "\"MXFP8_E4M3\"");

    static List<Mutator> mutators(byte[] seed) {
        List<Field> fields = fields(seed);
        Mutator field = Mutations.fields(fields);
        List<Mutator> m = new ArrayList<>();
        m.add((s, r) -> {
            Mutant x = field.apply(s, r);
            return new Mutant(reseal(x.bytes()), x.what() + " (resealed)");
        });
        m.add((s, r) -> {
            Mutant x = field.apply(s, r);
            return new Mutant(reseal(x.bytes()), x.what() + " (resealed)");
        });
        m.add((s, r) -> {
            ByteBuffer h = le(s);
            long metaOff = h.getLong(32), metaLen = h.getLong(40);
            String json = new String(s, (int) metaOff, (int) metaLen, StandardCharsets.UTF_8);
            StringBuilder what = new StringBuilder("metadata ");
            String mutated = Mutations.mutateJson(json, r, STRINGS, what);
            return new Mutant(withMetadata(s, mutated.getBytes(StandardCharsets.UTF_8)), what + " (resealed)");
        });
        m.add((s, r) -> {
            // any byte of the planes, metadata or strings, then re-sealed
            byte[] c = s.clone();
            int at = HEADER + r.nextInt(c.length - HEADER - FOOTER);
            c[at] = (byte) r.nextInt(256);
            return new Mutant(reseal(c), "byte " + at + " overwritten (resealed)");
        });
        m.add((s, r) -> {
            // an entry renamed to another entry's name: duplicate names
            ByteBuffer h = le(s).duplicate().order(ByteOrder.LITTLE_ENDIAN);
            long tableOff = h.getLong(64);
            int count = h.getInt(72), a = r.nextInt(count), b = r.nextInt(count);
            byte[] c = s.clone();
            ByteBuffer ch = le(c);
            ch.putInt((int) (tableOff + (long) a * ENTRY), h.getInt((int) (tableOff + (long) b * ENTRY)));
            ch.putInt((int) (tableOff + (long) a * ENTRY) + 4, h.getInt((int) (tableOff + (long) b * ENTRY) + 4));
            return new Mutant(reseal(c), "entry " + a + " named like entry " + b + " (resealed)");
        });
        return m;
    }

    static List<FuzzSeed> seeds() {
        byte[] s = seed();
        return List.of(FuzzSeed.single("tpk-every-encoding", "seed.tpk", s, mutators(s)));
    }
}
