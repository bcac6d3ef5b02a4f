package dev.tamp.cli.support;

import java.nio.file.Path;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** Options every command that executes a model shares (picocli mixin): tokenizer, backend, batch size. */
public final class RuntimeOptions {
    /** The command this mixin is in, for usage errors picocli reports as its own (one line, exit 2). */
    @Spec(Spec.Target.MIXEE)
    CommandSpec mixee;

    @Option(names = "--tokenizer", paramLabel = "FILE", description = "tokenizer.json to use instead of the model's.")
    public Path tokenizer;

    @Option(names = "--backend", paramLabel = "NAME", description = "java (default), torch, torch:cpu or torch:cuda.")
    public String backend;

    @Option(names = "--batch-size", defaultValue = "32", paramLabel = "N", description = "Texts per batch (default: ${DEFAULT-VALUE}).")
    public int batchSize;

    @Option(names = "--kernel-activations", paramLabel = "auto|float|int8",
            description = "How weight-only integer and MX packs meet their activations on the java backend: int8 (quantized per "
                    + "block of 32 as llama.cpp's Q8_0, integer dot products in the native kernels), float (the decoded "
                    + "weights exactly), or auto (default): int8 for 4-bit weights (INT4, MXFP4, MXINT4), float for wider "
                    + "ones (accuracy of each: README).")
    public void setKernelActivations(String a) {
        if (!a.equals("auto") && !a.equals("float") && !a.equals("int8")) {
            throw new CommandLine.ParameterException(mixee.commandLine(), "--kernel-activations must be auto, float or int8, not " + a);
        }
        System.setProperty("tamp.activations", a); // read when a session prepares its kernels
    }
}
