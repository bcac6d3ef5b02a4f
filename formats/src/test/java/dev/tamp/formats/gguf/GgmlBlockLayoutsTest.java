package dev.tamp.formats.gguf;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/**
 * Hand-built blocks, each setting the bits of one layout detail (where a scale's high bits live, which hmask bit or
 * qh pair belongs to a value), with the expected values worked out from ggml-common.h's layouts by hand. Where the
 * llama.cpp oracle is installed, {@link GgmlDequantOracleTest} checks every bit against ggml itself; these hold
 * without it.
 */
class GgmlBlockLayoutsTest {
    static final short ONE = 0x3C00, HALF = 0x3800, QUARTER = 0x3400, TWO = 0x4000, MINUS_ONE = (short) 0xBC00;

    static ByteBuffer block(GgmlType t) {
        return ByteBuffer.allocate(t.blockBytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    static float[] decode(GgmlType t, ByteBuffer b) {
        return t.blockSize == 32 ? GgmlBlocks.dequantize(t, b.rewind(), 32) : GgmlKQuants.dequantize(t, b.rewind(), 256);
    }

    @Test
    void legacyBlocksWithMinsAndFifthBits() {
        ByteBuffer q41 = block(GgmlType.Q4_1).putShort(0, TWO).putShort(2, ONE).put(4 + 15, (byte) 0xF1);
        float[] y = decode(GgmlType.Q4_1, q41);
        assertEquals(3f, y[15], 0f, "q·d + m, low nibble");
        assertEquals(31f, y[31], 0f, "high nibble is element j + 16");

        // Q5_0: bit j of qh is element j's fifth bit; element 20 is byte 4's high nibble
        ByteBuffer q50 = block(GgmlType.Q5_0).putShort(0, QUARTER).putInt(2, 1 << 20).put(6 + 4, (byte) 0x30);
        y = decode(GgmlType.Q5_0, q50);
        assertEquals(0.75f, y[20], 0f, "((3 | 16) − 16)·¼");
        assertEquals(-4f, y[4], 0f, "(0 − 16)·¼");

        ByteBuffer q51 = block(GgmlType.Q5_1).putShort(0, QUARTER).putShort(2, MINUS_ONE).putInt(4, 1).put(8, (byte) 0x02);
        y = decode(GgmlType.Q5_1, q51);
        assertEquals(3.5f, y[0], 0f, "(2 | 16)·¼ − 1");
        assertEquals(-1f, y[16], 0f);

        ByteBuffer nl = block(GgmlType.IQ4_NL).putShort(0, HALF).put(2 + 1, (byte) 0xF8);
        y = decode(GgmlType.IQ4_NL, nl);
        assertEquals(0.5f, y[1], 0f, "code 8 is the grid's 1");
        assertEquals(56.5f, y[17], 0f, "code 15 is 113");
        assertEquals(-63.5f, y[0], 0f, "code 0 is −127");
    }

    @Test
    void q4kHighScaleMinPairsBorrowTheTopBitsOfTheFirstEight() {
        ByteBuffer b = block(GgmlType.Q4_K).putShort(0, ONE).putShort(2, HALF);
        int sc = 4;
        b.put(sc + 9, (byte) 0x3A);             // pair 5: scale low 4 bits 0xA, min low 4 bits 3
        b.put(sc + 1, (byte) 0xC1);             // top bits 3 → pair 5's scale 0x3A; low 6 bits: pair 1's scale 1
        b.put(sc + 5, (byte) 0x80);             // top bits 2 → pair 5's min 0x23 = 35; pair 1's min 0
        b.put(16 + 64 + 3, (byte) 0x70);        // chunk 2's high nibbles are sub-block 5: element 160 + 3, code 7
        b.put(16, (byte) 0x50);                 // sub-block 1 = high nibbles of chunk 0: element 32, code 5
        float[] y = decode(GgmlType.Q4_K, b);
        assertEquals(58 * 7 - 0.5f * 35, y[163], 0f);
        assertEquals(-17.5f, y[160], 0f);
        assertEquals(5f, y[32], 0f);
        assertEquals(0f, y[131], 0f, "chunk 2's low nibbles are pair 4, all zero");
    }

    @Test
    void q5kFifthBitOfSubBlockSIsBitSOfQh() {
        ByteBuffer b = block(GgmlType.Q5_K).putShort(0, ONE).putShort(2, ONE);
        b.put(4 + 3, (byte) 2);                 // pair 3 (chunk 1, high nibbles): scale 2, min 0
        b.put(16 + 7, (byte) (1 << 3));         // fifth bit of value 7 of sub-block 3
        b.put(48 + 32 + 7, (byte) 0x40);        // chunk 1's byte 7, high nibble 4
        float[] y = decode(GgmlType.Q5_K, b);
        assertEquals(2 * (4 + 16), y[96 + 7], 0f);
        assertEquals(0f, y[64 + 7], 0f, "sub-block 2 has scale 0");
    }

    @Test
    void q3kSixBitScalesAndHmask() {
        ByteBuffer b = block(GgmlType.Q3_K).putShort(108, ONE);
        b.put(96 + 5, (byte) 0x70);             // scale 13: low 4 bits from byte 5's high nibble
        b.put(96 + 9, (byte) 0x80);             // ... high 2 bits from byte 8 + 13 % 4, bits 2·(13 / 4) = 6..7: 39
        // scale 13 covers elements 208..223: half 1, plane 2 (shift 4), the second 16 bytes of that half's 32
        b.put(32 + 32 + 16 + 1, (byte) 0x30);   // element 209: code 3
        b.put(16 + 1, (byte) (1 << 6));         // ... hmask bit 4·half + plane = 6 set: no −4
        b.put(32 + 32 + 16 + 2, (byte) 0x30);   // element 210: code 3, hmask clear
        float[] y = decode(GgmlType.Q3_K, b);
        assertEquals(21f, y[209], 0f, "(39 − 32)·3");
        assertEquals(-7f, y[210], 0f, "(39 − 32)·(3 − 4)");
        assertEquals(-28f, y[208], 0f, "(39 − 32)·(0 − 4)");
        assertEquals(128f, y[0], 0f, "(0 − 32)·(0 − 4)");
    }

    @Test
    void q2kFourBitScalesAndMins() {
        ByteBuffer b = block(GgmlType.Q2_K).putShort(80, ONE).putShort(82, ONE);
        b.put(15, (byte) 0x25);                 // sub-block 15 (elements 240..255): scale 5, min 2
        b.put(16 + 32 + 16, (byte) 0xC0);       // half 1, second 16 bytes, plane 3 (bits 6..7): element 240, code 3
        float[] y = decode(GgmlType.Q2_K, b);
        assertEquals(13f, y[240], 0f, "5·3 − 2");
        assertEquals(-2f, y[241], 0f);
    }

    @Test
    void q6kLowNibblesAndHighPairs() {
        ByteBuffer b = block(GgmlType.Q6_K).putShort(208, ONE);
        b.put(192 + 15, (byte) -3).put(192 + 11, (byte) 2);
        b.put(64 + 32 + 20, (byte) 0x50);       // half 1, ql[l + 32] for l = 20: high nibble → element 128 + 96 + 20
        b.put(128 + 32 + 20, (byte) 0x80);      // qh[l] bits 6..7 = 2 belong to that element too
        float[] y = decode(GgmlType.Q6_K, b);
        assertEquals(-3 * ((5 | 2 << 4) - 32), y[244], 0f);
        assertEquals(2 * -32, y[180], 0f, "element 128 + 32 + 20: low nibble 0, qh bits 2..3 = 0, scale 11");
    }

    @Test
    void iq4xsAndQ8k() {
        ByteBuffer b = block(GgmlType.IQ4_XS).putShort(0, HALF).putShort(2, (short) (2 << 10)).put(4 + 2, (byte) 0x90);
        b.put(8 + 16 * 5 + 3, (byte) 0xF0);     // sub-block 5: scale 9 | 2 << 4 = 41 → 9 after the bias
        float[] y = decode(GgmlType.IQ4_XS, b);
        assertEquals(4.5f * 113, y[160 + 16 + 3], 0f);
        assertEquals(4.5f * -127, y[160 + 3], 0f);

        ByteBuffer k = block(GgmlType.Q8_K).putFloat(0, 0.5f).put(4 + 7, (byte) -100);
        assertEquals(-50f, decode(GgmlType.Q8_K, k)[7], 0f);
    }
}
