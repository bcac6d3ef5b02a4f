package dev.tamp.runtime.exec;

import dev.tamp.core.ir.Model;
import dev.tamp.runtime.kernels.Parallel;

/** The pure-Java backend: {@link GraphExecutor} with Vector API kernels. */
public final class JavaBackend implements Backend {
    private final Parallel parallel;

    public JavaBackend() {
        this(Parallel.shared());
    }

    public JavaBackend(Parallel parallel) {
        this.parallel = parallel;
    }

    @Override public String name() { return "java"; }

    /** The thread pool its kernels run on (also used by the KV-cache decoder, which runs the same kernels). */
    public Parallel parallel() {
        return parallel;
    }

    @Override public Session open(Model model) {
        return new GraphExecutor(model, parallel);
    }
}
