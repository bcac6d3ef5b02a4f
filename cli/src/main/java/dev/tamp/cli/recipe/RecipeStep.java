package dev.tamp.cli.recipe;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tamp.core.error.BadInputException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One step of a recipe: a tamp subcommand and its options. The runner supplies the step's input (the
 * previous artifact) and its output path, so a step may not name them itself.
 *
 * <p>Option values map to flags as on the command line: {@code key: value} → {@code --key value},
 * {@code key: true} → {@code --key}, {@code key: false} → nothing, a list → {@code --key a,b}.
 */
public record RecipeStep(int index, String command, StepKind kind, Map<String, String> options, List<String> flags) {

    static RecipeStep parse(Path file, int index, JsonNode node) {
        String where = "step " + index;
        String command;
        JsonNode opts;
        if (node.isTextual()) {
            command = node.asText();
            opts = null;
        } else if (node.isObject() && node.size() == 1) {
            Map.Entry<String, JsonNode> e = node.fields().next();
            command = e.getKey();
            opts = e.getValue();
        } else {
            throw BadInputException.inFile(file, where + ": write a step as '- command: {option: value, ...}'");
        }
        StepKind kind = StepKind.of(command);
        if (kind == null) {
            throw BadInputException.inFile(file, where + ": '" + command + "' is not a command a recipe can run (one of: "
                    + String.join(", ", StepKind.commands()) + ")");
        }
        Map<String, String> options = new LinkedHashMap<>();
        List<String> flags = new ArrayList<>();
        if (opts != null && !opts.isNull()) {
            if (!opts.isObject()) throw BadInputException.inFile(file, where + " (" + command + "): options must be a mapping");
            for (Iterator<Map.Entry<String, JsonNode>> it = opts.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> o = it.next();
                String key = o.getKey().replaceFirst("^-+", "");
                if (kind.suppliedOptions().contains(key)) {
                    throw BadInputException.inFile(file, where + " (" + command + "): '" + key
                            + "' is supplied by the recipe (the previous step's output, or the step's own output)");
                }
                JsonNode v = o.getValue();
                if (v.isBoolean()) {
                    if (v.booleanValue()) flags.add("--" + key);
                } else if (v.isArray()) {
                    List<String> parts = new ArrayList<>();
                    for (JsonNode x : v) {
                        if (!x.isValueNode()) throw BadInputException.inFile(file, where + " (" + command + "): '" + key + "' lists only plain values");
                        parts.add(x.asText());
                    }
                    options.put(key, String.join(",", parts));
                } else if (v.isValueNode() && !v.isNull()) {
                    options.put(key, v.asText());
                } else {
                    throw BadInputException.inFile(file, where + " (" + command + "): '" + key + "' must be a value, true/false or a list");
                }
            }
        }
        return new RecipeStep(index, command, kind, Collections.unmodifiableMap(options), List.copyOf(flags));
    }

    /** The command line for this step, reading {@code input} and (for steps that make one) writing {@code output}. */
    public List<String> arguments(String input, Path output) {
        List<String> a = new ArrayList<>();
        a.add(command);
        if (kind.inputOption() == null) {
            a.add(input);
        } else {
            a.add("--" + kind.inputOption());
            a.add(input);
        }
        for (Map.Entry<String, String> e : options.entrySet()) {
            a.add("--" + e.getKey());
            a.add(e.getValue());
        }
        a.addAll(flags);
        if (output != null) {
            a.add("-o");
            a.add(output.toString());
        }
        return a;
    }
}
