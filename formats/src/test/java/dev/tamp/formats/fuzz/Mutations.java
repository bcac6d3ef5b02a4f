package dev.tamp.formats.fuzz;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Mutations of a seed file's bytes. Generic ones know nothing of the format (truncation, bit flips, runs of
 * overwritten bytes, boundary integers written at any offset); field ones write boundary integers into the
 * seed's known size/count/offset fields; text ones rewrite literals of a JSON document.
 */
final class Mutations {
    private Mutations() {}

    /** A little-endian integer field of a seed (1, 2, 4 or 8 bytes) that declares a size, count, offset or type. */
    record Field(String name, int offset, int width) {}

    /** A mutated file and what was done to it (for the failure message). */
    record Mutant(byte[] bytes, String what) {}

    /** A mutation: from the seed's bytes and a random source to a mutant. */
    interface Mutator {
        Mutant apply(byte[] seed, SplittableRandom r);
    }

    /** Integers that sit on the edges readers get wrong: zero, ±1, sign bits, all ones, 2^31, 2^32, huge. */
    static final long[] BOUNDARY = {0, 1, 2, 3, -1, -2, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, 0x7FFF_FFFFL, 0x8000_0000L,
            0xFFFF_FFFFL, 0x1_0000_0000L, 1L << 40, 1L << 53, 1L << 62, Long.MAX_VALUE, Long.MIN_VALUE, -0x8000_0000L};

    static long boundary(SplittableRandom r, long fileSize) {
        return switch (r.nextInt(5)) {
            case 0 -> fileSize + r.nextInt(-2, 3); // just inside / outside the file
            case 1 -> -(1L + r.nextInt(1 << 16));
            case 2 -> 1L << r.nextInt(63);
            default -> BOUNDARY[r.nextInt(BOUNDARY.length)];
        };
    }

    static Mutant truncate(byte[] s, int len) {
        return new Mutant(Arrays.copyOf(s, len), "truncated to " + len + " of " + s.length + " bytes");
    }

    /** The generic mutations, applicable to any seed. */
    static List<Mutator> generic() {
        List<Mutator> m = new ArrayList<>();
        m.add((s, r) -> truncate(s, r.nextInt(Math.max(1, s.length))));
        // truncation near the start, where headers are
        m.add((s, r) -> truncate(s, r.nextInt(Math.max(1, Math.min(s.length, 256)))));
        m.add((s, r) -> {
            byte[] c = s.clone();
            int n = 1 + r.nextInt(4);
            StringBuilder at = new StringBuilder();
            for (int i = 0; i < n; i++) {
                int pos = r.nextInt(c.length), bit = r.nextInt(8);
                c[pos] ^= (byte) (1 << bit);
                at.append(' ').append(pos).append('.').append(bit);
            }
            return new Mutant(c, "bit flips at" + at);
        });
        m.add((s, r) -> {
            byte[] c = s.clone();
            int at = r.nextInt(c.length), run = 1 + r.nextInt(8);
            int kind = r.nextInt(3);
            for (int j = at; j < Math.min(c.length, at + run); j++) {
                c[j] = kind == 0 ? 0 : kind == 1 ? (byte) 0xFF : (byte) r.nextInt(256);
            }
            return new Mutant(c, "bytes " + at + ".." + (at + run) + " overwritten with " + new String[] {"0x00", "0xFF", "random"}[kind]);
        });
        m.add((s, r) -> {
            int width = new int[] {1, 2, 4, 8}[r.nextInt(4)];
            int at = r.nextInt(Math.max(1, s.length - width + 1));
            long v = boundary(r, s.length);
            return new Mutant(put(s, at, width, v), width + "-byte value " + v + " written at " + at);
        });
        m.add((s, r) -> {
            // a duplicated or removed span shifts everything after it (lengths no longer match)
            int at = r.nextInt(s.length), len = 1 + r.nextInt(Math.min(64, s.length - at));
            byte[] c = r.nextBoolean() ? concat(Arrays.copyOf(s, at + len), Arrays.copyOfRange(s, at, s.length))
                    : concat(Arrays.copyOf(s, at), Arrays.copyOfRange(s, at + len, s.length));
            return new Mutant(c, (c.length > s.length ? "duplicated" : "removed") + " bytes " + at + ".." + (at + len));
        });
        return m;
    }

    /** Boundary values written into known fields (the most direct way to make a header lie). */
    static Mutator fields(List<Field> fields) {
        return (s, r) -> {
            Field f = fields.get(r.nextInt(fields.size()));
            long v = boundary(r, s.length);
            if (r.nextInt(4) == 0) v = get(s, f.offset(), f.width()) + r.nextInt(-3, 4); // off by a little
            return new Mutant(put(s, f.offset(), f.width(), v), "field " + f.name() + " @" + f.offset() + " = " + v);
        };
    }

    private static final Pattern NUMBER = Pattern.compile("-?\\d+(?:\\.\\d+)?(?:[eE][-+]?\\d+)?");
    private static final Pattern STRING = Pattern.compile("\"(?:[^\"\\\\]|\\\\.)*\"");
    private static final String[] NUMBER_REPLACEMENTS = {"0", "-1", "1", "2147483647", "2147483648", "4294967296",
            "-9223372036854775808", "9223372036854775807", "18446744073709551616", "1e308", "1.5", "-0", "\"7\"", "null",
            "[]", "{}", "[1,2]", "true"};

    /** Rewrites one JSON literal (number or string) of a JSON text, or breaks its structure. */
    static String mutateJson(String json, SplittableRandom r, List<String> interestingStrings, StringBuilder what) {
        switch (r.nextInt(4)) {
            case 0, 1 -> {
                List<int[]> spans = spans(NUMBER, json);
                if (spans.isEmpty()) break;
                int[] sp = spans.get(r.nextInt(spans.size()));
                String rep = NUMBER_REPLACEMENTS[r.nextInt(NUMBER_REPLACEMENTS.length)];
                what.append("number ").append(json, sp[0], sp[1]).append(" -> ").append(rep);
                return json.substring(0, sp[0]) + rep + json.substring(sp[1]);
            }
            case 2 -> {
                List<int[]> spans = spans(STRING, json);
                if (spans.isEmpty()) break;
                int[] sp = spans.get(r.nextInt(spans.size()));
                String rep = interestingStrings.get(r.nextInt(interestingStrings.size()));
                what.append("string ").append(json, sp[0], sp[1]).append(" -> ").append(rep);
                return json.substring(0, sp[0]) + rep + json.substring(sp[1]);
            }
            default -> { }
        }
        int at = r.nextInt(json.length());
        String ins = new String[] {"{", "}", "[", "]", ",", ":", "\"", "\\", "\u0000", ""}[r.nextInt(10)];
        what.append("char ").append(at).append(" -> '").append(ins.replace("\u0000", "\\0")).append('\'');
        return json.substring(0, at) + ins + json.substring(at + 1);
    }

    private static List<int[]> spans(Pattern p, String s) {
        List<int[]> out = new ArrayList<>();
        Matcher m = p.matcher(s);
        while (m.find()) out.add(new int[] {m.start(), m.end()});
        return out;
    }

    static byte[] put(byte[] s, int at, int width, long v) {
        byte[] c = s.clone();
        for (int i = 0; i < width && at + i < c.length; i++) c[at + i] = (byte) (v >>> (8 * i));
        return c;
    }

    static long get(byte[] s, int at, int width) {
        long v = 0;
        for (int i = width - 1; i >= 0; i--) v = (v << 8) | (s[at + i] & 0xFF);
        return v;
    }

    static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) n += p.length;
        ByteBuffer b = ByteBuffer.allocate(n);
        for (byte[] p : parts) b.put(p);
        return b.array();
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** Little-endian builder that remembers where each integer field went, so mutations can target them. */
    static final class Le {
        private final java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        final List<Field> fields = new ArrayList<>();

        Le u8(int v) { out.write(v); return this; }
        Le i16(int v) { return raw(ByteBuffer.allocate(2).order(ByteOrder.LITTLE_ENDIAN).putShort((short) v).array()); }
        Le i32(int v) { return raw(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array()); }
        Le i64(long v) { return raw(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array()); }
        Le f32(float v) { return i32(Float.floatToIntBits(v)); }
        Le raw(byte[] b) { out.writeBytes(b); return this; }
        /** A field: recorded, then written. */
        Le field(String name, int width, long v) {
            fields.add(new Field(name, out.size(), width));
            return switch (width) {
                case 1 -> u8((int) v);
                case 2 -> i16((int) v);
                case 4 -> i32((int) v);
                default -> i64(v);
            };
        }
        Le str(String name, String s) { byte[] b = utf8(s); field(name + ".len", 8, b.length); return raw(b); }
        Le padTo(int align) { while (out.size() % align != 0) out.write(0); return this; }
        int size() { return out.size(); }
        byte[] bytes() { return out.toByteArray(); }
    }
}
