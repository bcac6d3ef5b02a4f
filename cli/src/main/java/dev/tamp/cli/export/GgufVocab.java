package dev.tamp.cli.export;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tamp.core.error.BadInputException;
import dev.tamp.core.ir.Model;
import dev.tamp.core.json.Json;
import dev.tamp.formats.gguf.GgufWriter.Int32;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The {@code tokenizer.ggml.*} metadata llama.cpp needs to load a GGUF file at all (its loader requires
 * {@code tokenizer.ggml.model}), from the model's tokenizer.json:
 * <ul>
 *   <li>byte-level BPE (GPT-2, Llama 3) → llama.cpp's {@code gpt2} vocabulary: tokens in id order, token types
 *       (normal; added special tokens control, other added tokens user-defined; ids the vocabulary leaves empty
 *       unused {@code [PADn]}) and the merges in rank order — the same algorithm, exactly;</li>
 *   <li>SentencePiece-style BPE (Llama 2, Mistral: "▁" for spaces, {@code <0xNN>} byte fallback) → llama.cpp's
 *       {@code llama} vocabulary, which merges the adjacent pair whose concatenation has the highest score instead of
 *       the pair of lowest merge rank. Score = −(rank of the first merge producing the token) gives the same order,
 *       provided every split of every token into two tokens is itself a merge — true of tokenizers converted from a
 *       SentencePiece model, which list exactly those. When the merges are incomplete (a tokenizer trained as BPE),
 *       llama.cpp would merge pairs the tokenizer never merges, so the file gets {@code no_vocab} instead;</li>
 *   <li>no tokenizer (stories260K, whose tokenizer was never published) or any other kind → {@code no_vocab} with
 *       {@code llama.vocab_size}: llama.cpp then runs the model on token ids. The report says why.</li>
 * </ul>
 */
public final class GgufVocab {
    private GgufVocab() {}

    /** What was written: llama.cpp's vocabulary type, its size, merges, and why it is not the model's own when it is not. */
    public record Written(String model, int tokens, int merges, String note) {}

    static final int NORMAL = 1, UNKNOWN = 2, CONTROL = 3, USER_DEFINED = 4, UNUSED = 5, BYTE = 6;
    /** SentencePiece's byte-fallback pieces. */
    private static final java.util.regex.Pattern BYTE_PIECE = java.util.regex.Pattern.compile("<0x[0-9A-F]{2}>");

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
        boolean byteLevel = byteLevel(json.path("pre_tokenizer")), sentencePiece = !byteLevel && sentencePiece(json);
        if (!type.equals("BPE") || !byteLevel && !sentencePiece) {
            return noVocab(meta, vocabSize, "a " + type + " tokenizer of this kind has no exact llama.cpp vocabulary; token ids only");
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
        List<String[]> merges = new ArrayList<>();
        for (JsonNode m : bpe.path("merges")) {
            merges.add(m.isArray() ? new String[] {m.get(0).asText(), m.get(1).asText()} : m.asText().split(" ", 2));
        }
        List<String> tokenList = new ArrayList<>(size);
        List<Int32> typeList = new ArrayList<>(size);
        String unk = bpe.path("unk_token").asText(null);
        for (int i = 0; i < size; i++) {
            String t = tokens[i];
            int ty = t == null ? UNUSED : types[i];
            if (sentencePiece && t != null && t.equals(unk)) ty = UNKNOWN;
            else if (sentencePiece && t != null && BYTE_PIECE.matcher(t).matches()) ty = BYTE;
            tokenList.add(t != null ? t : "[PAD" + i + "]");
            typeList.add(new Int32(ty));
        }
        if (byteLevel) {
            List<String> text = new ArrayList<>(merges.size());
            for (String[] m : merges) text.add(m[0] + " " + m[1]);
            meta.put("tokenizer.ggml.model", "gpt2");
            meta.put("tokenizer.ggml.tokens", tokenList);
            meta.put("tokenizer.ggml.token_type", typeList);
            meta.put("tokenizer.ggml.merges", text);
        } else {
            String gap = incompleteMerge(tokens, merges);
            if (gap != null) return noVocab(meta, vocabSize, "SentencePiece-style merges are incomplete (" + gap + "): llama.cpp would "
                    + "tokenize differently; token ids only");
            meta.put("tokenizer.ggml.model", "llama");
            meta.put("tokenizer.ggml.tokens", tokenList);
            meta.put("tokenizer.ggml.scores", scores(tokens, merges));
            meta.put("tokenizer.ggml.token_type", typeList);
            meta.put("tokenizer.ggml.add_space_prefix", prependsSpace(json));
            if (unk != null && bpe.path("vocab").has(unk)) meta.put("tokenizer.ggml.unknown_token_id", bpe.path("vocab").get(unk).asInt());
        }
        for (String which : new String[] {"bos", "eos"}) {
            if (model.config().get(which + "_token_id") instanceof Number id) meta.put("tokenizer.ggml." + which + "_token_id", id.intValue());
        }
        return new Written(byteLevel ? "gpt2" : "llama", size, merges.size(), null);
    }

    /** Score per token: −(rank of the first merge that produces it); tokens no merge produces (characters, bytes, specials) 0. */
    private static List<Float> scores(String[] tokens, List<String[]> merges) {
        Map<String, Integer> firstRank = new HashMap<>();
        for (int r = 0; r < merges.size(); r++) firstRank.putIfAbsent(merges.get(r)[0] + merges.get(r)[1], r);
        List<Float> s = new ArrayList<>(tokens.length);
        for (String t : tokens) s.add(t != null && firstRank.containsKey(t) ? (float) -(firstRank.get(t) + 1) : 0f);
        return s;
    }

    /** A split "a + b" of some token into two tokens that is not a merge (llama.cpp would merge it), or null when none. */
    private static String incompleteMerge(String[] tokens, List<String[]> merges) {
        Set<String> vocab = new HashSet<>(), pairs = new HashSet<>();
        for (String t : tokens) if (t != null) vocab.add(t);
        for (String[] m : merges) pairs.add(m[0] + "\u0000" + m[1]);
        for (String t : tokens) {
            if (t == null || BYTE_PIECE.matcher(t).matches()) continue;
            for (int cut = t.offsetByCodePoints(0, 1); cut < t.length(); cut = t.offsetByCodePoints(cut, 1)) {
                String a = t.substring(0, cut), b = t.substring(cut);
                if (vocab.contains(a) && vocab.contains(b) && !pairs.contains(a + "\u0000" + b)) return "\"" + a + "\" + \"" + b + "\"";
            }
        }
        return null;
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

    /** Spaces as "▁" (a Metaspace pre-tokenizer, or a Replace " " → "▁" normalizer), as SentencePiece converters write. */
    private static boolean sentencePiece(JsonNode json) {
        if (json.path("pre_tokenizer").path("type").asText().equals("Metaspace")) return true;
        for (JsonNode n : normalizers(json.path("normalizer"))) {
            if (n.path("type").asText().equals("Replace") && n.path("pattern").path("String").asText().equals(" ")
                    && n.path("content").asText().equals("▁")) return true;
        }
        return false;
    }

    /** Whether the text gets a leading "▁" (Prepend normalizer, or Metaspace with a prefix), llama.cpp's add_space_prefix. */
    private static boolean prependsSpace(JsonNode json) {
        JsonNode pre = json.path("pre_tokenizer");
        if (pre.path("type").asText().equals("Metaspace")) {
            return !pre.path("prepend_scheme").asText(pre.path("add_prefix_space").asBoolean(true) ? "always" : "never").equals("never");
        }
        for (JsonNode n : normalizers(json.path("normalizer"))) if (n.path("type").asText().equals("Prepend")) return true;
        return false;
    }

    private static List<JsonNode> normalizers(JsonNode n) {
        List<JsonNode> out = new ArrayList<>();
        if (n.path("type").asText().equals("Sequence")) n.path("normalizers").forEach(out::add);
        else if (!n.isMissingNode() && !n.isNull()) out.add(n);
        return out;
    }
}
