package dev.tamp.runtime.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tamp.core.error.BadInputException;
import dev.tamp.core.error.UnsupportedModelException;
import dev.tamp.core.json.Json;
import java.io.IOException;

/** Builds the tokenizer a Hugging Face tokenizer.json describes. */
public final class Tokenizers {
    private Tokenizers() {}

    /**
     * The tokenizer for a tokenizer.json: {@link WordPieceTokenizer} or {@link BpeTokenizer} by the model type.
     *
     * @throws BadInputException the bytes are not a tokenizer.json (not JSON, no model, inconsistent vocabulary)
     * @throws UnsupportedModelException a model type, normalizer, pre-tokenizer, post-processor or decoder that is not
     *     implemented here (the message names it)
     */
    public static Tokenizer fromJson(byte[] tokenizerJson) {
        JsonNode json;
        try {
            json = Json.parse(tokenizerJson);
        } catch (IOException e) {
            throw new BadInputException("tokenizer.json is not valid JSON: " + e.getMessage().lines().findFirst().orElse(""));
        }
        if (json == null || !json.path("model").isObject()) throw new BadInputException("tokenizer.json has no model object");
        String type = json.path("model").path("type").asText("");
        if (type.isEmpty() && json.path("model").has("merges")) type = "BPE"; // older files omit the type of BPE models
        return switch (type) {
            case "WordPiece" -> new WordPieceTokenizer(json);
            case "BPE" -> new BpeTokenizer(json);
            default -> throw new UnsupportedModelException("tokenizer.json model type '" + type + "' is not supported (WordPiece and BPE are)");
        };
    }
}
