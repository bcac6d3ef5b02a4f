package dev.tamp.cli.recipe;

import java.util.Arrays;
import java.util.List;
import java.util.Set;

/** The commands a recipe can run: those that turn a model into a new artifact, and those that only check one. */
public enum StepKind {
    CONVERT("convert", true, null, ".tpk"),
    QUANTIZE("quantize", true, null, ".tpk"),
    COMPOT("compot", true, null, ".tpk"),
    PRUNE("prune", true, null, ".tpk"),
    MX("mx", true, null, ".tpk"),
    MX_SLICE("mx-slice", true, null, ".tpk"),
    DISTILL("distill", true, "student", ".tpk"),
    PACK("pack", true, null, ".tpk"),
    EXPORT("export", true, null, null),
    VERIFY("verify", false, null, null),
    EVAL("eval", false, null, null),
    INSPECT("inspect", false, null, null);

    private final String command;
    private final boolean producesArtifact;
    private final String inputOption;
    private final String extension;

    StepKind(String command, boolean producesArtifact, String inputOption, String extension) {
        this.command = command;
        this.producesArtifact = producesArtifact;
        this.inputOption = inputOption;
        this.extension = extension;
    }

    public boolean producesArtifact() { return producesArtifact; }

    /** The option naming the step's input, or null when the input is the first positional parameter. */
    String inputOption() { return inputOption; }

    /** Options the runner fills in, which a step may not set. */
    Set<String> suppliedOptions() {
        return inputOption == null ? Set.of("o", "output") : Set.of("o", "output", inputOption);
    }

    /** The output file's extension: fixed, or (export) the target format's. */
    String extension(java.util.Map<String, String> options) {
        if (extension != null) return extension;
        String to = options.getOrDefault("to", "out");
        return "." + to;
    }

    static StepKind of(String command) {
        for (StepKind k : values()) if (k.command.equals(command)) return k;
        return null;
    }

    static List<String> commands() {
        return Arrays.stream(values()).map(k -> k.command).toList();
    }
}
