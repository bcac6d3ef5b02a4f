package dev.tamp.core.error;

/** Process exit codes, the contract of architecture.md. */
public enum ExitCode {
    OK(0), THRESHOLD_NOT_MET(1), BAD_INPUT(2), UNSUPPORTED(3), INTERNAL(4);

    private final int code;

    ExitCode(int code) { this.code = code; }

    public int code() { return code; }
}
