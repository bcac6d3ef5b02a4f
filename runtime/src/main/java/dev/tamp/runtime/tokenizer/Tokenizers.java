package dev.tamp.runtime.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tamp.core.error.BadInputException;
import dev.tamp.core.error.UnsupportedModelException;
import dev.tamp.core.json.Json;
import java.io.IOException;

/** Builds the tokenizer a tokenizer.json describes. */
public final class Tokenizers {
    private Tokenizers() {}

    public static Tokenizer fromJson(byte[] tokenizerJson) {
        JsonNode json;
        try {
            json = Json.parse(tokenizerJson);
        } catch (IOException e) {
            throw new BadInputException("tokenizer.json is not valid JSON: " + e.getMessage());
        }
        String type = json.path("model").path("type").asText("");
        return switch (type) {
            case "WordPiece" -> new WordPieceTokenizer(json);
            case "BPE" -> new BpeTokenizer(json);
            default -> throw new UnsupportedModelException("tokenizer model type '" + type + "' is not supported (WordPiece and BPE are)");
        };
    }
}
