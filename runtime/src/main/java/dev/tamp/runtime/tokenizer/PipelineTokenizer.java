package dev.tamp.runtime.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tamp.core.error.BadInputException;
import dev.tamp.core.error.UnsupportedModelException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Hugging Face's encoding pipeline around a subword model: added tokens → normalizer → pre-tokenizer → model
 * (per word, in the subclass) → truncation → post-processor template → padding; decoding through the decoder.
 */
abstract sealed class PipelineTokenizer implements Tokenizer permits WordPieceTokenizer, BpeTokenizer {
    /** Largest token id accepted, so a lying vocabulary cannot make us allocate gigabytes. */
    private static final int MAX_ID = 1 << 24;

    protected final Map<String, Integer> vocab;
    private final String[] byId;
    private final AddedVocabulary added;
    private final Normalizer normalizer;
    private final PreTokenizer preTokenizer;
    private final SingleTemplate template;
    private final Decoders.Step decoder;
    private final int truncateTo;
    private final boolean truncateLeft;
    private final int fixedPadding;
    private final boolean padLeft;
    private final int padId;
    private final int padTypeId;

    PipelineTokenizer(JsonNode json) {
        JsonNode model = json.path("model");
        if (!model.path("vocab").isObject()) throw new BadInputException("tokenizer.json model has no vocab object");
        vocab = new HashMap<>(model.path("vocab").size() * 2);
        for (Iterator<Map.Entry<String, JsonNode>> it = model.path("vocab").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            vocab.put(e.getKey(), checkedId(e.getValue(), e.getKey()));
        }
        normalizer = Normalizers.fromJson(json.path("normalizer"));
        preTokenizer = PreTokenizers.fromJson(json.path("pre_tokenizer"));
        decoder = Decoders.fromJson(json.path("decoder"));
        added = new AddedVocabulary(json.path("added_tokens"), normalizer);
        int max = -1;
        for (int id : vocab.values()) max = Math.max(max, id);
        for (AddedVocabulary.AddedToken t : added.tokens()) max = Math.max(max, checkedId(t.id(), t.content()));
        byId = new String[max + 1];
        vocab.forEach((k, v) -> byId[v] = k);
        // Added tokens win over the model's vocabulary in both directions, as in Hugging Face.
        for (AddedVocabulary.AddedToken t : added.tokens()) {
            byId[t.id()] = t.content();
            vocab.put(t.content(), t.id());
        }
        template = SingleTemplate.fromJson(json.path("post_processor"), this::tokenToId);
        for (int id : template.prefixIds()) checkKnown(id, "post-processor");
        for (int id : template.suffixIds()) checkKnown(id, "post-processor");

        JsonNode trunc = json.path("truncation");
        if (trunc.isObject()) {
            truncateTo = trunc.path("max_length").asInt(0);
            truncateLeft = trunc.path("direction").asText("Right").equals("Left");
            if (truncateTo <= 0) throw new BadInputException("tokenizer.json truncation max_length " + trunc.path("max_length") + " is not positive");
        } else {
            truncateTo = 0;
            truncateLeft = false;
        }
        JsonNode pad = json.path("padding");
        int padFromVocab = tokenToId("[PAD]") >= 0 ? tokenToId("[PAD]") : tokenToId("<pad>") >= 0 ? tokenToId("<pad>") : 0;
        if (pad.isObject()) {
            fixedPadding = pad.path("strategy").path("Fixed").asInt(0);
            padLeft = pad.path("direction").asText("Right").equals("Left");
            padId = pad.path("pad_id").asInt(padFromVocab);
            padTypeId = pad.path("pad_type_id").asInt(0);
        } else {
            fixedPadding = 0;
            padLeft = false;
            padId = padFromVocab;
            padTypeId = 0;
        }
    }

    private static int checkedId(JsonNode v, String token) {
        if (!v.canConvertToInt() || v.asInt() < 0 || v.asInt() > MAX_ID) {
            throw new BadInputException("tokenizer.json vocabulary id " + v + " of token '" + token + "' is not an id in [0, " + MAX_ID + "]");
        }
        return v.asInt();
    }

    private static int checkedId(int id, String token) {
        if (id > MAX_ID) throw new BadInputException("tokenizer.json added token '" + token + "' has id " + id + " above " + MAX_ID);
        return id;
    }

    private void checkKnown(int id, String where) {
        if (id < 0 || id >= byId.length || byId[id] == null) throw new BadInputException("tokenizer.json " + where + " uses id " + id + " that no token has");
    }

    /** Appends the model's ids for one pre-tokenized word. */
    abstract void tokenizeWord(String word, IntList out);

    /** Truncation length when neither caller nor tokenizer.json gives one (0: none). */
    abstract int modelMaxLength();

    static void requireModelKeys(JsonNode model, String modelType, List<String> known) {
        for (Iterator<String> it = model.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!known.contains(k)) throw new UnsupportedModelException("tokenizer.json " + modelType + " model option '" + k + "' is not supported");
        }
    }

    @Override
    public Encoding encode(String text) {
        return encodeLimited(text, truncateTo);
    }

    @Override
    public Encoding encode(String text, int maxLength) {
        return encodeLimited(text, maxLength > 0 ? maxLength : defaultMaxLength());
    }

    /** The model's ids for the text, added tokens included, before truncation and special tokens. */
    int[] tokenize(String text) {
        IntList ids = new IntList(text.length() / 3 + 4);
        List<PreTokenizer.Piece> words = new ArrayList<>();
        for (AddedVocabulary.Segment s : added.split(text, normalizer)) {
            if (s.id() >= 0) {
                ids.add(s.id());
                continue;
            }
            words.clear();
            preTokenizer.split(new PreTokenizer.Piece(s.text(), s.atStart()), words);
            for (PreTokenizer.Piece w : words) tokenizeWord(w.text(), ids);
        }
        return ids.toArray();
    }

    private Encoding encodeLimited(String text, int limit) {
        int[] content = tokenize(text);
        if (limit > 0) {
            int room = limit - template.added();
            if (room < 0) throw new BadInputException("maximum length " + limit + " leaves no room: the tokenizer adds " + template.added() + " special tokens");
            if (content.length > room) {
                content = truncateLeft ? Arrays.copyOfRange(content, content.length - room, content.length) : Arrays.copyOf(content, room);
            }
        }
        int n = template.added() + content.length;
        int[] ids = new int[n], types = new int[n], mask = new int[n];
        int k = 0;
        for (int i = 0; i < template.prefixIds().length; i++, k++) {
            ids[k] = template.prefixIds()[i];
            types[k] = template.prefixTypes()[i];
        }
        for (int id : content) {
            ids[k] = id;
            types[k++] = template.sequenceType();
        }
        for (int i = 0; i < template.suffixIds().length; i++, k++) {
            ids[k] = template.suffixIds()[i];
            types[k] = template.suffixTypes()[i];
        }
        Arrays.fill(mask, 1);
        return new Encoding(ids, mask, types);
    }

    @Override
    public List<Encoding> encodeBatch(List<String> texts, int maxLength, boolean padToLongest) {
        List<Encoding> raw = new ArrayList<>(texts.size());
        int longest = 0;
        for (String t : texts) {
            Encoding e = encode(t, maxLength);
            raw.add(e);
            longest = Math.max(longest, e.length());
        }
        int target = padToLongest ? longest : maxLength > 0 ? maxLength : fixedPadding;
        List<Encoding> out = new ArrayList<>(raw.size());
        for (Encoding e : raw) out.add(pad(e, target));
        return out;
    }

    private Encoding pad(Encoding e, int length) {
        if (e.length() >= length) return e;
        int[] ids = new int[length], mask = new int[length], types = new int[length];
        Arrays.fill(ids, padId);
        Arrays.fill(types, padTypeId);
        int at = padLeft ? length - e.length() : 0;
        System.arraycopy(e.ids(), 0, ids, at, e.length());
        System.arraycopy(e.attentionMask(), 0, mask, at, e.length());
        System.arraycopy(e.typeIds(), 0, types, at, e.length());
        return new Encoding(ids, mask, types);
    }

    @Override
    public String decode(int[] ids, boolean skipSpecialTokens) {
        List<String> tokens = new ArrayList<>(ids.length);
        for (int id : ids) {
            String t = idToToken(id);
            if (t == null || (skipSpecialTokens && added.isSpecial(id))) continue;
            tokens.add(t);
        }
        return Decoders.decode(decoder, tokens);
    }

    @Override public int vocabSize() { return byId.length; }

    @Override public String idToToken(int id) { return id >= 0 && id < byId.length ? byId[id] : null; }

    @Override public int tokenToId(String token) { return vocab.getOrDefault(token, -1); }

    @Override public Map<String, Integer> specialTokens() { return Collections.unmodifiableMap(added.specialTokens()); }

    @Override public int padId() { return padId; }

    @Override public int defaultMaxLength() { return truncateTo > 0 ? truncateTo : modelMaxLength(); }
}
