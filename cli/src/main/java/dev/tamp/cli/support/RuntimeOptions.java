package dev.tamp.cli.support;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Options every command that executes a model shares (picocli mixin): tokenizer, backend, batch size. */
public final class RuntimeOptions {
    @Option(names = "--tokenizer", paramLabel = "FILE", description = "tokenizer.json to use instead of the model's.")
    public Path tokenizer;

    @Option(names = "--backend", paramLabel = "NAME", description = "java (default), torch, torch:cpu or torch:cuda.")
    public String backend;

    @Option(names = "--batch-size", defaultValue = "32", paramLabel = "N", description = "Texts per batch (default: ${DEFAULT-VALUE}).")
    public int batchSize;
}
