package dev.tamp.runtime.exec;

import dev.tamp.core.ir.Model;

/** An execution engine for tamp models: the pure-Java one, or DJL's PyTorch engine on cpu or cuda. */
public interface Backend {
    String name();

    Session open(Model model);
}
