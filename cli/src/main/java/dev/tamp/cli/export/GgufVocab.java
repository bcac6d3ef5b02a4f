package dev.tamp.cli.export;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tamp.core.error.BadInputException;
import dev.tamp.core.ir.Model;
import dev.tamp.core.json.Json;
import dev.tamp.formats.gguf.GgufWriter.Int32;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The {@code tokenizer.ggml.*} metadata llama.cpp needs to load a GGUF file at all (its loader requires
 * {@code tokenizer.ggml.model}). A byte-level BPE tokenizer.json (GPT-2, Llama 3) maps exactly onto llama.cpp's
 * {@code gpt2} vocabulary: tokens in id order, token types (normal; added special tokens as control, other added
 * tokens as user-defined; ids the vocabulary leaves empty as unused {@code [PADn]}) and the merges in rank order.
 * A model without a tokenizer (stories260K, whose 512-token tokenizer was never published) is written as
 * {@code no_vocab} with {@code llama.vocab_size}: llama.cpp then runs it on token ids. Other tokenizers
 * (SentencePiece-style BPE with byte fallback, WordPiece, Unigram) are written as {@code no_vocab} too, and the
 * report says so: llama.cpp's {@code llama} vocabulary ranks merges by per-token SentencePiece scores, which a
 * tokenizer.json does not carry, and a guessed score order would tokenize differently from the source.
 */
public final class GgufVocab {
    private GgufVocab() {}

    /** What was written: llama.cpp's vocabulary type, its size, merges, and why it is not the model's own when it is not. */
    public record Written(String model, int tokens, int merges, String note) {}

    static final int NORMAL = 1, CONTROL = 3, USER_DEFINED = 4, UNUSED = 5;

    /** Adds the tokenizer keys to {@code meta}; {@code vocabSize} is the embedding's row count. */
    static Written put(Model model, int vocabSize, Map<String, Object> meta) {
        byte[] bytes = model.tokenizerJson();
        if (bytes == null) return noVocab(meta, vocabSize, "the model carries no tokenizer");
        JsonNode json;
        try {
            json = Json.parse(bytes);
        } catch (IOException e) {
            throw new BadInputException(model.source() + ": its tokenizer.json is not JSON: " + e.getMessage());
        }
        JsonNode bpe = json.path("model");
        String type = bpe.path("type").asText(bpe.has("merges") ? "BPE" : "unknown");
        if (!type.equals("BPE") || !byteLevel(json.path("pre_tokenizer"))) {
            String kind = type.equals("BPE") ? "BPE without a byte-level pre-tokenizer (SentencePiece style)" : type;
            return noVocab(meta, vocabSize, "a " + kind + " tokenizer has no exact llama.cpp vocabulary (its merges would need "
                    + "SentencePiece scores); token ids only");
        }
        int size = vocabSize;
        for (Iterator<Map.Entry<String, JsonNode>> it = bpe.path("vocab").fields(); it.hasNext(); ) {
            size = Math.max(size, checkedId(model, it.next().getValue()) + 1);
        }
        for (JsonNode t : json.path("added_tokens")) size = Math.max(size, checkedId(model, t.path("id")) + 1);
        if (vocabSize > 0 && size != vocabSize) { // llama.cpp sizes token_embd by the token list
            return noVocab(meta, vocabSize, "the tokenizer has " + size + " ids, the embedding " + vocabSize + " rows");
        }
        String[] tokens = new String[size];
        int[] types = new int[size];
        for (Iterator<Map.Entry<String, JsonNode>> it = bpe.path("vocab").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            tokens[e.getValue().asInt()] = e.getKey();
            types[e.getValue().asInt()] = NORMAL;
        }
        for (JsonNode t : json.path("added_tokens")) {
            int id = t.path("id").asInt();
            tokens[id] = t.path("content").asText();
            types[id] = t.path("special").asBoolean() ? CONTROL : USER_DEFINED;
        }
        List<String> tokenList = new ArrayList<>(size);
        List<Int32> typeList = new ArrayList<>(size);
        for (int i = 0; i < size; i++) {
            tokenList.add(tokens[i] != null ? tokens[i] : "[PAD" + i + "]");
            typeList.add(new Int32(tokens[i] != null ? types[i] : UNUSED));
        }
        List<String> merges = new ArrayList<>();
        for (JsonNode m : bpe.path("merges")) merges.add(m.isArray() ? m.get(0).asText() + " " + m.get(1).asText() : m.asText());
        meta.put("tokenizer.ggml.model", "gpt2");
        meta.put("tokenizer.ggml.tokens", tokenList);
        meta.put("tokenizer.ggml.token_type", typeList);
        meta.put("tokenizer.ggml.merges", merges);
        for (String which : new String[] {"bos", "eos"}) {
            if (model.config().get(which + "_token_id") instanceof Number id) meta.put("tokenizer.ggml." + which + "_token_id", id.intValue());
        }
        return new Written("gpt2", size, merges.size(), null);
    }

    /** A token id as written in tokenizer.json, refused when it could not index a vocabulary (a lying file must not size an array). */
    private static int checkedId(Model model, JsonNode id) {
        if (!id.canConvertToInt() || id.asInt() < 0 || id.asInt() >= 1 << 24) {
            throw new BadInputException(model.source() + ": tokenizer.json has token id " + id + ", not in 0.." + ((1 << 24) - 1));
        }
        return id.asInt();
    }

    private static Written noVocab(Map<String, Object> meta, int vocabSize, String why) {
        meta.put("tokenizer.ggml.model", "no_vocab");
        meta.put("llama.vocab_size", vocabSize);
        return new Written("no_vocab", vocabSize, 0, why);
    }

    /** A ByteLevel pre-tokenizer, alone or inside a Sequence (GPT-2; Llama 3's Split regex followed by ByteLevel). */
    private static boolean byteLevel(JsonNode pre) {
        if (pre.path("type").asText().equals("ByteLevel")) return true;
        for (JsonNode p : pre.path("pretokenizers")) if (byteLevel(p)) return true;
        return false;
    }
}
