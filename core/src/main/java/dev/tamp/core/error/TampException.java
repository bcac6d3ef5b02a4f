package dev.tamp.core.error;

/**
 * Base of tamp's typed errors. The message is one line meant for the user: it names the file (or
 * tensor, node, flag) and the problem. The CLI prints it without a stack trace and exits with
 * {@link #exitCode()}.
 */
public abstract class TampException extends RuntimeException {
    protected TampException(String message, Throwable cause) {
        super(message, cause);
    }

    public abstract ExitCode exitCode();
}
