package dev.tamp.core.error;

import java.nio.file.Path;

/** Bad usage or bad input: truncated or corrupt file, missing tensor, NaN weights, bad flag (exit 2). */
public class BadInputException extends TampException {
    public BadInputException(String message) { super(message, null); }

    public BadInputException(String message, Throwable cause) { super(message, cause); }

    /** "FILE: problem". */
    public static BadInputException inFile(Path file, String problem) {
        return new BadInputException(file + ": " + problem);
    }

    public static BadInputException inFile(Path file, String problem, Throwable cause) {
        return new BadInputException(file + ": " + problem, cause);
    }

    @Override public ExitCode exitCode() { return ExitCode.BAD_INPUT; }
}
