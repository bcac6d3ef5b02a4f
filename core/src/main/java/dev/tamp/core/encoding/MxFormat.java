package dev.tamp.core.encoding;

/**
 * MX element formats (OCP MX v1.0 plus the non-OCP MXINT6/MXINT4 Slice-and-Scale targets), with the
 * .tpk format tag, the element bit width and emax (exponent of the largest normal, formats.md §1.3).
 */
public enum MxFormat {
    MXFP8_E4M3(0x0100, 8, 8, "mxfp8"),
    MXFP8_E5M2(0x0101, 8, 15, "mxfp8-e5m2"),
    MXFP6_E3M2(0x0102, 6, 4, "mxfp6"),
    MXFP6_E2M3(0x0103, 6, 2, "mxfp6-e2m3"),
    MXFP4_E2M1(0x0104, 4, 2, "mxfp4"),
    MXINT8(0x0108, 8, 0, "mxint8"),
    MXINT6(0x0109, 6, 0, "mxint6"),
    MXINT4(0x010A, 4, 0, "mxint4");

    private final int tag;
    private final int bits;
    private final int emax;
    private final String cliName;

    MxFormat(int tag, int bits, int emax, String cliName) {
        this.tag = tag;
        this.bits = bits;
        this.emax = emax;
        this.cliName = cliName;
    }

    public int tag() { return tag; }

    public int bits() { return bits; }

    public int emax() { return emax; }

    /** The name used on the command line (`--format mxfp4`). */
    public String cliName() { return cliName; }

    public boolean isInteger() { return this == MXINT8 || this == MXINT6 || this == MXINT4; }

    /** Bytes that {@code count} packed elements occupy (4-bit: two per byte, 6-bit: four per three bytes). */
    public long packedBytes(long count) {
        return (count * bits + 7) / 8;
    }

    public static MxFormat fromTag(int tag) {
        for (MxFormat f : values()) if (f.tag == tag) return f;
        return null;
    }

    public static MxFormat fromCliName(String name) {
        for (MxFormat f : values()) if (f.cliName.equalsIgnoreCase(name) || f.name().equalsIgnoreCase(name)) return f;
        return null;
    }
}
