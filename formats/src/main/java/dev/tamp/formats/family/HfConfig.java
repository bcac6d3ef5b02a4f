package dev.tamp.formats.family;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tamp.core.error.BadInputException;
import dev.tamp.core.json.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/** A Hugging Face config.json: its scalar entries as a config map, and the architecture family it names. */
public final class HfConfig {
    private HfConfig() {}

    public static Map<String, Object> read(Path file) {
        JsonNode n;
        try {
            n = Json.parse(Files.readAllBytes(file));
        } catch (IOException e) {
            throw BadInputException.inFile(file, "not valid JSON: " + e.getMessage().lines().findFirst().orElse(""), e);
        }
        if (!n.isObject()) throw BadInputException.inFile(file, "config.json is not a JSON object");
        Map<String, Object> m = new LinkedHashMap<>();
        n.fields().forEachRemaining(e -> {
            JsonNode v = e.getValue();
            if (v.isIntegralNumber()) m.put(e.getKey(), v.asLong());
            else if (v.isNumber()) m.put(e.getKey(), v.asDouble());
            else if (v.isBoolean()) m.put(e.getKey(), v.asBoolean());
            else if (v.isTextual()) m.put(e.getKey(), v.asText());
            else if (v.isArray() && v.size() > 0 && v.get(0).isTextual()) m.put(e.getKey(), v.get(0).asText());
            else if (v.isObject()) {
                // one level of nesting, flattened ("rope_scaling.factor"): the sub-configs a loader needs are flat
                v.fields().forEachRemaining(f -> {
                    JsonNode x = f.getValue();
                    String key = e.getKey() + "." + f.getKey();
                    if (x.isIntegralNumber()) m.put(key, x.asLong());
                    else if (x.isNumber()) m.put(key, x.asDouble());
                    else if (x.isBoolean()) m.put(key, x.asBoolean());
                    else if (x.isTextual()) m.put(key, x.asText());
                });
            }
        });
        return m;
    }

    /** "llama", "mistral", "qwen2", "bert", ... from model_type or architectures; "unknown" when neither says. */
    public static String architecture(Map<String, Object> config) {
        Object t = config.get("model_type");
        if (t != null) return t.toString().toLowerCase(Locale.ROOT);
        Object a = config.get("architectures");
        if (a != null) {
            ModelFamily f = ModelFamily.ofHfClasses(a.toString());
            if (f != null) return f.id;
        }
        return "unknown";
    }
}
