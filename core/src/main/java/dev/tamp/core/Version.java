package dev.tamp.core;

/** The tool version recorded in provenance and printed by --version. */
public final class Version {
    public static final String VERSION = "0.1.0";
    public static final String PRODUCER = "tamp " + VERSION;

    private Version() {}
}
