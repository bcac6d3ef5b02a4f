package dev.tamp.core.error;

/** The input is well-formed but uses something tamp does not support: an op, dtype, architecture (exit 3). */
public class UnsupportedModelException extends TampException {
    public UnsupportedModelException(String message) { super(message, null); }

    public UnsupportedModelException(String message, Throwable cause) { super(message, cause); }

    @Override public ExitCode exitCode() { return ExitCode.UNSUPPORTED; }
}
