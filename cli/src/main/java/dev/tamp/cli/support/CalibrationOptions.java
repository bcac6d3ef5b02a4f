package dev.tamp.cli.support;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Where calibration text comes from and how much of it, shared by every calibrating command (picocli mixin). */
public final class CalibrationOptions {
    @Option(names = "--data", paramLabel = "FILE|DIR", description = "Calibration text (default: the bundled corpus).")
    public Path data;

    @Option(names = "--samples", defaultValue = "128", description = "Calibration sentences or sequences (default: ${DEFAULT-VALUE}).")
    public int samples;

    @Option(names = "--seq-len", defaultValue = "128", description = "Max tokens per calibration sample (default: ${DEFAULT-VALUE}).")
    public int seqLen;

    @Option(names = "--seed", defaultValue = "0", description = "Seeds the calibration sample (default: ${DEFAULT-VALUE}).")
    public long seed;
}
