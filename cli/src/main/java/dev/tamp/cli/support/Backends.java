package dev.tamp.cli.support;

import dev.tamp.core.error.BadInputException;
import dev.tamp.runtime.exec.Backend;
import dev.tamp.runtime.exec.JavaBackend;
import dev.tamp.runtime.torch.TorchBackend;
import java.util.Locale;

/** --backend java | torch | torch:cpu | torch:cuda. */
public final class Backends {
    private Backends() {}

    public static Backend of(String spec) {
        String s = spec == null ? System.getProperty("tamp.backend", "java") : spec.toLowerCase(Locale.ROOT);
        if (s.equals("java")) return new JavaBackend();
        if (s.equals("torch")) return new TorchBackend("cpu");
        if (s.startsWith("torch:")) return new TorchBackend(s.substring("torch:".length()));
        throw new BadInputException("unknown backend '" + spec + "' (expected java, torch, torch:cpu or torch:cuda)");
    }
}
