package dev.tamp.compot;

import java.util.Locale;

/** The factorisation applied to each compressible linear layer. */
public enum Method {
    /** Whitened orthogonal dictionary + column-sparse codes (COMPOT) → {@code DictionaryWeight}. */
    COMPOT("compot"),
    /** Plain truncated SVD of W → {@code LowRankWeight}. */
    SVD("svd"),
    /** Truncated SVD in the calibration-whitened space (SVD-LLM style) → {@code LowRankWeight}. */
    SVD_WHITENED("svd-whitened");

    private final String cliName;

    Method(String cliName) { this.cliName = cliName; }

    public String cliName() { return cliName; }

    public static Method parse(String name) {
        String n = name.trim().toLowerCase(Locale.ROOT);
        for (Method m : values()) if (m.cliName.equals(n)) return m;
        throw new IllegalArgumentException("unknown compression method '" + name + "' (compot, svd, svd-whitened)");
    }
}
