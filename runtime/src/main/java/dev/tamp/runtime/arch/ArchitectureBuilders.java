package dev.tamp.runtime.arch;

import dev.tamp.core.error.UnsupportedModelException;
import dev.tamp.core.ir.Model;
import dev.tamp.formats.family.ModelFamily;
import java.util.Locale;

/** Gives a weight-only checkpoint its forward graph, by architecture family. Models with a graph pass through. */
public final class ArchitectureBuilders {
    private ArchitectureBuilders() {}

    public static Model ensureGraph(Model model) {
        if (model.graph() != null) return model;
        String arch = family(model);
        if (isLlamaFamily(model)) return LlamaGraphBuilder.build(model);
        return switch (arch) {
            case "bert" -> BertGraphBuilder.build(model);
            default -> throw new UnsupportedModelException(model.source() + ": no graph builder for architecture '" + arch
                    + "' (supported: " + ModelFamily.names() + ")");
        };
    }

    /** Whether the model is a Llama-family decoder (Llama, Mistral, Qwen2, SmolLM) by its architecture name. */
    public static boolean isLlamaFamily(Model model) {
        ModelFamily f = ModelFamily.of(model.architecture());
        return f != null && f.llamaGraph;
    }

    private static String family(Model model) {
        return model.architecture() == null ? "unknown" : model.architecture().toLowerCase(Locale.ROOT);
    }
}
