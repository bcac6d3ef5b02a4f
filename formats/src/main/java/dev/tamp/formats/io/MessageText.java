package dev.tamp.formats.io;

import dev.tamp.core.error.BadInputException;
import dev.tamp.core.error.UnsupportedModelException;
import java.util.function.Supplier;

/**
 * Error messages quote text taken from the file — tensor names, keys, zip entry names — and a corrupt or
 * hostile file can put line breaks and other control characters there. Readers run their work through
 * {@link #oneLine(Supplier)}, so whichever check fails, the message stays one line of bounded length.
 */
public final class MessageText {
    /** Longer messages are cut: a name can be megabytes long. */
    static final int MAX_LENGTH = 2000;

    private MessageText() {}

    /** Control characters replaced by '?', cut to {@link #MAX_LENGTH} characters. */
    public static String flat(String s) {
        if (s == null) return "";
        String f = s.replaceAll("\\p{Cntrl}", "?");
        return f.length() > MAX_LENGTH ? f.substring(0, MAX_LENGTH) + "…" : f;
    }

    /** Runs a read; a Bad/Unsupported exception whose message is not one short line is re-thrown flattened. */
    public static <T> T oneLine(Supplier<T> read) {
        try {
            return read.get();
        } catch (BadInputException e) {
            String f = flat(e.getMessage());
            if (f.equals(e.getMessage())) throw e;
            throw new BadInputException(f, e);
        } catch (UnsupportedModelException e) {
            String f = flat(e.getMessage());
            if (f.equals(e.getMessage())) throw e;
            throw new UnsupportedModelException(f, e);
        }
    }
}
