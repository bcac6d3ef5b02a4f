package dev.tamp.cli.recipe;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.tamp.core.error.BadInputException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * A pipeline read from a YAML file: the model it starts from, its steps (each one tamp subcommand with its
 * options), where intermediate artifacts go and where the final one is copied.
 *
 * <pre>
 * name: minilm-edge
 * model: minilm
 * steps:
 *   - quantize: {method: awq, bits: 4, group: 128}
 *   - pack: {device: avx2}
 *   - verify: {reference: minilm, min-cosine: 0.95}
 * output: minilm-edge.tpk
 * </pre>
 *
 * Every problem is reported as a one-line {@link BadInputException} naming the file and the step.
 */
public record Recipe(Path file, String name, String model, List<RecipeStep> steps, String output, String workdir) {

    private static final List<String> KEYS = List.of("name", "model", "steps", "output", "workdir");

    public static Recipe read(Path file) {
        if (!Files.isRegularFile(file)) throw BadInputException.inFile(file, "recipe file not found");
        JsonNode root;
        try {
            root = new ObjectMapper(new YAMLFactory()).readTree(file.toFile());
        } catch (IOException e) {
            String msg = e.getMessage() == null ? e.toString() : e.getMessage().lines().findFirst().orElse("");
            throw BadInputException.inFile(file, "not valid YAML: " + msg, e);
        }
        if (root == null || !root.isObject()) throw BadInputException.inFile(file, "a recipe is a YAML mapping with 'model' and 'steps'");
        for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!KEYS.contains(k)) throw BadInputException.inFile(file, "unknown key '" + k + "' (known: " + String.join(", ", KEYS) + ")");
        }
        String model = text(file, root, "model", true);
        JsonNode stepsNode = root.get("steps");
        if (stepsNode == null || !stepsNode.isArray() || stepsNode.isEmpty()) {
            throw BadInputException.inFile(file, "'steps' must be a non-empty list");
        }
        List<RecipeStep> steps = new ArrayList<>();
        for (int i = 0; i < stepsNode.size(); i++) steps.add(RecipeStep.parse(file, i + 1, stepsNode.get(i)));
        String name = text(file, root, "name", false);
        if (name == null) name = stem(file);
        if (!name.matches("[A-Za-z0-9._-]+")) throw BadInputException.inFile(file, "name '" + name + "' may use only letters, digits, '.', '_' and '-'");
        return new Recipe(file, name, model, List.copyOf(steps), text(file, root, "output", false), text(file, root, "workdir", false));
    }

    private static String text(Path file, JsonNode root, String key, boolean required) {
        JsonNode n = root.get(key);
        if (n == null || n.isNull()) {
            if (required) throw BadInputException.inFile(file, "missing '" + key + "'");
            return null;
        }
        if (!n.isValueNode()) throw BadInputException.inFile(file, "'" + key + "' must be a plain value");
        return n.asText();
    }

    static String stem(Path file) {
        String f = file.getFileName().toString();
        int dot = f.lastIndexOf('.');
        return dot > 0 ? f.substring(0, dot) : f;
    }
}
