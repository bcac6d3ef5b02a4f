package dev.tamp.core.error;

/** A verification threshold was not met (exit 1). */
public class ThresholdNotMetException extends TampException {
    public ThresholdNotMetException(String message) { super(message, null); }

    @Override public ExitCode exitCode() { return ExitCode.THRESHOLD_NOT_MET; }
}
