package dev.tamp.runtime.exec;

import dev.tamp.runtime.value.Value;
import java.util.Collection;
import java.util.Map;

/** A model prepared by a backend for repeated execution. */
public interface Session extends AutoCloseable {
    /** Runs the graph; returns the requested values (the graph outputs when {@code outputs} is empty). */
    Map<String, Value> run(Map<String, Value> inputs, Collection<String> outputs, ExecutionListener listener);

    default Map<String, Value> run(Map<String, Value> inputs) {
        return run(inputs, java.util.List.of(), ExecutionListener.NONE);
    }

    @Override
    default void close() {}
}
