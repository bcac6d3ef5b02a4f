package dev.tamp.core.json;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;

/**
 * JSON in one place: a canonical writer (sorted keys, no insignificant whitespace) used wherever bytes
 * must be reproducible, and a pretty writer for --json output.
 */
public final class Json {
    private static final ObjectMapper CANONICAL = new ObjectMapper()
            .configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true)
            .configure(com.fasterxml.jackson.databind.MapperFeature.SORT_PROPERTIES_ALPHABETICALLY, true);
    private static final ObjectMapper PRETTY = new ObjectMapper()
            .configure(SerializationFeature.INDENT_OUTPUT, true);

    private Json() {}

    public static ObjectMapper mapper() { return PRETTY; }

    public static ObjectNode object() { return PRETTY.createObjectNode(); }

    /** Canonical UTF-8 bytes: keys sorted recursively, compact. */
    public static byte[] canonicalBytes(Object value) {
        try {
            JsonNode tree = CANONICAL.valueToTree(value);
            return CANONICAL.writeValueAsString(sortKeys(tree)).getBytes(StandardCharsets.UTF_8);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise JSON", e);
        }
    }

    public static String pretty(Object value) {
        try {
            return PRETTY.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise JSON", e);
        }
    }

    public static JsonNode parse(byte[] bytes) throws java.io.IOException {
        return PRETTY.readTree(bytes);
    }

    public static JsonNode parse(String text) throws java.io.IOException {
        return PRETTY.readTree(text);
    }

    private static JsonNode sortKeys(JsonNode node) {
        if (node.isObject()) {
            ObjectNode sorted = CANONICAL.createObjectNode();
            java.util.List<String> names = new java.util.ArrayList<>();
            node.fieldNames().forEachRemaining(names::add);
            java.util.Collections.sort(names);
            for (String n : names) sorted.set(n, sortKeys(node.get(n)));
            return sorted;
        }
        if (node.isArray()) {
            com.fasterxml.jackson.databind.node.ArrayNode a = CANONICAL.createArrayNode();
            for (JsonNode c : node) a.add(sortKeys(c));
            return a;
        }
        return node;
    }
}
