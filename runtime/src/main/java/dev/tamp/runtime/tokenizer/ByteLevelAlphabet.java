package dev.tamp.runtime.tokenizer;

import java.nio.charset.StandardCharsets;

/**
 * GPT-2's reversible byte ↔ character map: printable Latin-1 bytes stand for themselves, the other 68 bytes
 * are shifted to U+0100 onwards, so every byte string becomes a string of visible characters.
 */
final class ByteLevelAlphabet {
    private static final char[] BYTE_TO_CHAR = new char[256];
    private static final int[] CHAR_TO_BYTE = new int[512];

    static {
        java.util.Arrays.fill(CHAR_TO_BYTE, -1);
        int shifted = 0;
        for (int b = 0; b < 256; b++) {
            boolean direct = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            char c = (char) (direct ? b : 256 + shifted++);
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = b;
        }
    }

    private ByteLevelAlphabet() {}

    static String encode(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        char[] out = new char[bytes.length];
        for (int i = 0; i < bytes.length; i++) out[i] = BYTE_TO_CHAR[bytes[i] & 0xFF];
        return new String(out);
    }

    static char charOf(int b) { return BYTE_TO_CHAR[b & 0xFF]; }

    /** The byte a character stands for, or -1 for characters outside the alphabet. */
    static int byteOf(int c) { return c >= 0 && c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1; }
}
