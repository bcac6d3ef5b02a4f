package dev.tamp.formats.gguf;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/** ggml's MXFP4 block (type 39, 17 bytes): E8M0 byte, then byte j = element j (low nibble) | element j+16 (high). */
class GgmlMxfp4Test {
    @Test
    void decodesAsLlamaCppDoes() {
        assertEquals(39, GgmlType.MXFP4.id);
        assertEquals(17, GgmlType.MXFP4.blockBytes);
        byte[] block = new byte[17];
        block[0] = (byte) 130;                                // 2^(130−127) = 8
        for (int j = 0; j < 16; j++) block[1 + j] = (byte) (j | (15 - j) << 4);
        float[] y = GgmlBlocks.dequantize(GgmlType.MXFP4, ByteBuffer.wrap(block), 32);
        // E2M1 by code: 0, .5, 1, 1.5, 2, 3, 4, 6, then the negatives (code 8 is −0).
        float[] e2m1 = {0, .5f, 1, 1.5f, 2, 3, 4, 6, -0f, -.5f, -1, -1.5f, -2, -3, -4, -6};
        for (int j = 0; j < 16; j++) {
            assertEquals(e2m1[j] * 8, y[j], 0f, "element " + j);
            assertEquals(e2m1[15 - j] * 8, y[j + 16], 0f, "element " + (j + 16));
        }
        block[0] = 0;                                         // smallest scale: 2^-127, element 0.5 → 2^-128 (subnormal)
        assertEquals(0x1p-128f, GgmlBlocks.dequantize(GgmlType.MXFP4, ByteBuffer.wrap(block), 32)[1], 0f);
    }
}
