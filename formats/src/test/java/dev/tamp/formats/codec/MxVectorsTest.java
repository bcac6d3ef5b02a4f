package dev.tamp.formats.codec;

import static org.junit.jupiter.api.Assertions.*;

import dev.tamp.core.encoding.MxFormat;
import dev.tamp.core.error.BadInputException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** Every test vector of formats.md §1.9 and §2.3, bit for bit. */
class MxVectorsTest {
    static ElementCodec c(MxFormat f) { return ElementCodecs.of(f); }

    static final MxFormat E4M3 = MxFormat.MXFP8_E4M3, E5M2 = MxFormat.MXFP8_E5M2, E3M2 = MxFormat.MXFP6_E3M2,
            E2M3 = MxFormat.MXFP6_E2M3, E2M1 = MxFormat.MXFP4_E2M1;

    /** value, E4M3, E5M2, E3M2, E2M3, E2M1 codes (§1.9 table). */
    static final Object[][] SCALARS = {
        {1.0, 0x38, 0x3C, 0x0C, 0x08, 0x2}, {-1.0, 0xB8, 0xBC, 0x2C, 0x28, 0xA}, {0.5, 0x30, 0x38, 0x08, 0x04, 0x1},
        {0.1, 0x1D, 0x2E, 0x02, 0x01, 0x0}, {6.0, 0x4C, 0x46, 0x16, 0x1C, 0x7}, {7.5, 0x4F, 0x48, 0x18, 0x1F, 0x7},
        {28.0, 0x5E, 0x4F, 0x1F, 0x1F, 0x7}, {448.0, 0x7E, 0x5F, 0x1F, 0x1F, 0x7}, {449.0, 0x7E, 0x5F, 0x1F, 0x1F, 0x7},
        {464.0, 0x7E, 0x5F, 0x1F, 0x1F, 0x7}, {500.0, 0x7E, 0x60, 0x1F, 0x1F, 0x7}, {57344.0, 0x7E, 0x7B, 0x1F, 0x1F, 0x7},
        {60000.0, 0x7E, 0x7B, 0x1F, 0x1F, 0x7}, {Math.scalb(1.0, -6), 0x08, 0x24, 0x00, 0x00, 0x0},
        {Math.scalb(1.0, -9), 0x01, 0x18, 0x00, 0x00, 0x0}, {Math.scalb(1.0, -10), 0x00, 0x14, 0x00, 0x00, 0x0},
        {1.5 * Math.scalb(1.0, -10), 0x01, 0x16, 0x00, 0x00, 0x0}};

    @Test
    void scalarTable() {
        MxFormat[] fs = {E4M3, E5M2, E3M2, E2M3, E2M1};
        for (Object[] row : SCALARS) {
            for (int f = 0; f < fs.length; f++) {
                assertEquals((int) row[f + 1], c(fs[f]).encode((double) row[0]), fs[f] + " encode " + row[0]);
            }
        }
    }

    @Test
    void singleFormatChecks() {
        double[][] e2m1 = {{0.25, 0}, {0.75, 2}, {1.25, 2}, {1.75, 4}, {2.5, 4}, {3.5, 6}, {5.0, 6}, {5.1, 7}, {7.0, 7}, {-2.9, 0xD}, {-0.3, 9}};
        for (double[] p : e2m1) assertEquals((int) p[1], c(E2M1).encode(p[0]), "E2M1 " + p[0]);
        double[][] e3m2 = {{0.25, 0x04}, {0.0625, 0x01}, {5.0, 0x15}, {2.5, 0x11}, {30, 0x1F}};
        for (double[] p : e3m2) assertEquals((int) p[1], c(E3M2).encode(p[0]), "E3M2 " + p[0]);
        double[][] e2m3 = {{0.125, 0x01}, {0.0625, 0x00}, {0.1875, 0x02}, {2.25, 0x11}, {5.5, 0x1B}, {8, 0x1F}};
        for (double[] p : e2m3) assertEquals((int) p[1], c(E2M3).encode(p[0]), "E2M3 " + p[0]);
        double[][] e5m2 = {{Math.scalb(1.0, -14), 0x04}, {Math.scalb(1.0, -16), 0x01}, {Math.scalb(1.0, -17), 0x00}, {3.0, 0x42}, {-2.0, 0xC0}};
        for (double[] p : e5m2) assertEquals((int) p[1], c(E5M2).encode(p[0]), "E5M2 " + p[0]);
        double[][] e4m3 = {{0.3, 0x2A}, {240, 0x77}, {3, 0x44}, {5, 0x4A}, {-1000, 0xFE}};
        for (double[] p : e4m3) assertEquals((int) p[1], c(E4M3).encode(p[0]), "E4M3 " + p[0]);
        assertTrue(Double.isNaN(c(E4M3).decode(0x7F)) && Double.isNaN(c(E4M3).decode(0xFF)));
        assertEquals(Double.POSITIVE_INFINITY, c(E5M2).decode(0x7C));
        assertEquals(Double.NEGATIVE_INFINITY, c(E5M2).decode(0xFC));
        for (int code = 0x7D; code <= 0x7F; code++) assertTrue(Double.isNaN(c(E5M2).decode(code)));
    }

    @Test
    void e8m0() {
        assertEquals(0x00400000, Float.floatToRawIntBits(E8M0.decode(0x00)));
        assertEquals(0.5f, E8M0.decode(0x7E));
        assertEquals(1.0f, E8M0.decode(0x7F));
        assertEquals(2.0f, E8M0.decode(0x80));
        assertEquals(Math.scalb(1.0f, 127), E8M0.decode(0xFE));
        assertTrue(Float.isNaN(E8M0.decode(0xFF)));
    }

    static final float[] BLOCK_A = {
        -0.582733273506f, -0.256973713636f, 0.506033003330f, 0.400039970875f, -0.437093466520f, 1.275019764900f, -2.123294353485f, 1.514909625053f,
        -2.660086154938f, -0.200791791081f, -0.060985822231f, -0.209203109145f, 2.385987281799f, 0.062245476991f, 0.217003762722f, -0.857734560966f,
        0.507945835590f, 0.896152675152f, -0.751049160957f, -0.488164335489f, 0.805381953716f, -0.172028362751f, 0.271137863398f, -0.503807783127f,
        1.879478693008f, -0.294227510691f, 0.968807995319f, 0.670037031174f, -0.871595799923f, 0.304561793804f, -0.567594051361f, -1.265962004662f};

    static int[] hex(String s) {
        return Arrays.stream(s.trim().split("\\s+")).mapToInt(h -> Integer.parseInt(h, 16)).toArray();
    }

    record Encoded(int scale, int[] codes, byte[] packed) {}

    static Encoded encode(MxFormat f, float[] x) {
        MxBlockCodec codec = new MxBlockCodec(f, 32, ScaleRule.FLOOR);
        byte[] codes = new byte[codec.rowBytes(x.length)], scales = new byte[codec.blocks(x.length)];
        codec.quantizeRow(x, 0, x.length, codes, 0, scales, 0);
        return new Encoded(scales[0] & 0xFF, codec.unpackRow(ByteBuffer.wrap(codes), 0, x.length), codes);
    }

    @Test
    void blockA() {
        assertEquals(0xbf152e02, Float.floatToRawIntBits(BLOCK_A[0]));
        Object[][] rows = {
            {E4M3, 0x78, "E9 E0 68 65 E6 72 F8 74 FB DD D0 DD 7A 50 5E EE 68 6E EC E8 6D DB 61 E8 77 E1 70 6B EE 62 E9 F2"},
            {E5M2, 0x71, "F1 EC 70 6E EF 75 F8 76 F9 EA E4 EB 79 64 6B F3 70 73 F2 F0 72 EA 6C F0 78 ED 74 71 F3 6D F1 F5"},
            {E3M2, 0x7C, "35 30 14 12 33 19 3C 1A 3D 2E 28 2F 1D 08 0F 37 14 17 36 34 16 2E 10 34 1C 31 18 15 37 11 35 39"},
            {E2M3, 0x7E, "29 24 08 06 27 12 38 14 3B 23 21 23 1A 01 03 2E 08 0E 2C 28 0D 23 04 28 17 25 10 0B 2E 05 29 32"},
            {E2M1, 0x7E, "A 9 2 2 A 5 E 5 F 9 0 9 6 0 1 B 2 4 B A 3 9 1 A 6 9 4 3 B 1 A D"},
            {MxFormat.MXINT8, 0x80, "ED F8 10 0D F2 29 BC 30 AB FA FE F9 4C 02 07 E5 10 1D E8 F0 1A FA 09 F0 3C F7 1F 15 E4 0A EE D7"}};
        for (Object[] r : rows) {
            Encoded e = encode((MxFormat) r[0], BLOCK_A);
            assertEquals((int) r[1], e.scale(), r[0] + " scale");
            assertArrayEquals(hex((String) r[2]), e.codes(), r[0] + " codes");
        }
        // pair-order packing of the MXFP4 row
        assertArrayEquals(hex("9A 22 5A 5E 9F 90 06 B1 42 AB 93 A1 96 34 1B DA"), toInts(encode(E2M1, BLOCK_A).packed()));
        // E4M3 row decodes to microxcaling's expected values
        Encoded e4 = encode(E4M3, BLOCK_A);
        assertEquals(-0.5625, c(E4M3).decode(e4.codes()[0]) * E8M0.decode(e4.scale()), 0);
        assertEquals(-1.25, c(E4M3).decode(e4.codes()[31]) * E8M0.decode(e4.scale()), 0);
        Encoded i8 = encode(MxFormat.MXINT8, BLOCK_A);
        assertEquals(-0.59375, c(MxFormat.MXINT8).decode(i8.codes()[0]) * 2, 0);
        assertEquals(-2.65625, c(MxFormat.MXINT8).decode(i8.codes()[8]) * 2, 0);
    }

    static int[] toInts(byte[] b) {
        int[] o = new int[b.length];
        for (int i = 0; i < b.length; i++) o[i] = b[i] & 0xFF;
        return o;
    }

    static float[] padded(float... v) {
        return Arrays.copyOf(v, 32);
    }

    @Test
    void tiesAndSpecialBlocks() {
        Encoded t8 = encode(MxFormat.MXINT8, padded(1.015625f, 1.0234375f, 1.03125f, 1.0390625f, 1.25f, 1.2578125f, 1.9375f, 1.9453125f, 1.984375f, 1.9921875f));
        assertEquals(0x7F, t8.scale());
        assertArrayEquals(hex("41 42 42 42 50 50 7C 7C 7F 7F"), Arrays.copyOf(t8.codes(), 10));
        Encoded t4 = encode(E4M3, padded(485, 475, 400, -485, -475, -450, (float) Math.scalb(1.0, -6), (float) -Math.scalb(1.0, -6)));
        assertEquals(0x7F, t4.scale());
        assertArrayEquals(hex("7E 7E 7C FE FE FE 08 88"), Arrays.copyOf(t4.codes(), 8));
        for (MxFormat f : MxFormat.values()) {
            Encoded z = encode(f, new float[32]);
            assertEquals(0, z.scale(), f + " all-zero scale");
            assertTrue(Arrays.stream(z.codes()).allMatch(v -> v == 0));
        }
        Encoded sub = encode(E2M1, padded(1e-40f));
        assertEquals(0, sub.scale());
        assertTrue(Arrays.stream(sub.codes()).allMatch(v -> v == 0));
        float[] big = new float[32];
        Arrays.fill(big, 1.0f);
        big[0] = 3.0e38f;
        Encoded b = encode(MxFormat.MXINT8, big);
        assertEquals(0xFE, b.scale());
        assertEquals(0x71, b.codes()[0]);
        assertEquals(0, b.codes()[1]);
        assertEquals("non-finite value Infinity at index 0",
                assertThrows(BadInputException.class, () -> encode(E4M3, padded(Float.POSITIVE_INFINITY))).getMessage());
        assertEquals("non-finite value NaN at index 1",
                assertThrows(BadInputException.class, () -> encode(MxFormat.MXINT8, padded(1f, Float.NaN))).getMessage());
    }

    static int[] slice(MxFormat from, MxFormat to, float[] x, int[] scaleOut) {
        Encoded a = encode(from, x);
        int[] out = new int[32];
        scaleOut[0] = SliceAndScale.sliceBlock(from, a.codes(), 0, a.scale(), to, out, 0, 32);
        return out;
    }

    @Test
    void sliceAndScaleVectors() {
        int[] s = new int[1];
        assertArrayEquals(hex("0A 09 02 02 0A 04 0E 05 0F 09 00 09 06 00 01 0C 02 04 0B 0A 03 09 01 0A 06 09 04 03 0C 01 0A 0C"),
                slice(E4M3, E2M1, BLOCK_A, s));
        assertEquals(0x7E, s[0]);
        int[] direct = encode(E2M1, BLOCK_A).codes(), sliced = slice(E4M3, E2M1, BLOCK_A, s);
        int[] diff = java.util.stream.IntStream.range(0, 32).filter(i -> direct[i] != sliced[i]).toArray();
        assertArrayEquals(new int[] {5, 15, 28, 31}, diff);
        assertArrayEquals(new int[] {0, 8, 11, 25, 27, 30}, differences(E4M3, E3M2, 0x7C));
        assertArrayEquals(new int[] {14, 25}, differences(E4M3, E2M3, 0x7E));
        int[] i4 = slice(MxFormat.MXINT8, MxFormat.MXINT4, BLOCK_A, s);
        assertEquals(0x80, s[0]);
        assertArrayEquals(hex("F 0 1 1 F 3 C 3 B 0 0 0 5 0 0 E 1 2 E F 2 0 1 F 4 F 2 1 E 1 F D"), i4);
        assertArrayEquals(new int[] {1}, differences(MxFormat.MXINT8, MxFormat.MXINT4, 0x80));
        byte[] packed = new byte[16];
        Packing.pack(i4, 32, 4, packed, 0);
        assertArrayEquals(hex("0F 11 3F 3C 0B 00 05 E0 21 FE 02 F1 F4 12 1E DF"), toInts(packed));
        assertArrayEquals(hex("3B 3E 04 03 3C 0A 2F 0C 2B 3E 00 3E 13 00 02 39 04 07 3A 3C 06 3E 02 3C 0F 3E 08 05 39 02 3C 36"),
                slice(MxFormat.MXINT8, MxFormat.MXINT6, BLOCK_A, s));
        assertArrayEquals(new int[] {4, 21, 30}, differences(MxFormat.MXINT8, MxFormat.MXINT6, 0x80));
        // identity slices
        assertArrayEquals(encode(E4M3, BLOCK_A).codes(), slice(E4M3, E4M3, BLOCK_A, s));
        assertArrayEquals(encode(MxFormat.MXINT8, BLOCK_A).codes(), slice(MxFormat.MXINT8, MxFormat.MXINT8, BLOCK_A, s));
    }

    static int[] differences(MxFormat from, MxFormat to, int scale) {
        int[] s = new int[1];
        int[] sl = slice(from, to, BLOCK_A, s);
        assertEquals(scale, s[0], from + "→" + to + " scale");
        int[] d = encode(to, BLOCK_A).codes();
        return java.util.stream.IntStream.range(0, 32).filter(i -> d[i] != sl[i]).toArray();
    }
}
