package dev.tamp.cli.support;

import dev.tamp.core.error.BadInputException;
import dev.tamp.core.error.UnsupportedModelException;
import dev.tamp.runtime.exec.Backend;
import dev.tamp.runtime.exec.JavaBackend;
import java.util.Locale;

/** --backend java | torch | torch:cpu | torch:cuda. */
public final class Backends {
    private Backends() {}

    public static Backend of(String spec) {
        String s = spec == null ? System.getProperty("tamp.backend", "java") : spec.toLowerCase(Locale.ROOT);
        if (s.equals("java")) return new JavaBackend();
        if (s.equals("torch") || s.startsWith("torch:")) {
            throw new UnsupportedModelException("backend " + s + " is not available in this build yet (use --backend java)");
        }
        throw new BadInputException("unknown backend '" + spec + "' (expected java, torch, torch:cpu or torch:cuda)");
    }
}
