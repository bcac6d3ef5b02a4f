package dev.tamp.cli.support;

import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** --ignore, shared by every weight-rewriting command (picocli mixin). */
public final class IgnoreOptions {
    @Option(names = "--ignore", paramLabel = "PATTERN",
            description = "Keep matching weights/layers in float (glob on weight or node name, or /regex/); repeatable.")
    public List<String> patterns = new ArrayList<>();
}
