package dev.tamp.runtime.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tamp.core.error.UnsupportedModelException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Byte-pair encoding from a Hugging Face tokenizer.json, in the two forms Llama-family models ship:
 * <ul>
 *   <li>SentencePiece-style: normalizers Prepend("▁") and Replace(" " → "▁") (or a Metaspace pre-tokenizer),
 *       characters as base symbols, {@code byte_fallback} to {@code <0xNN>} tokens for characters not in the
 *       vocabulary;</li>
 *   <li>GPT-2 ByteLevel: the GPT-2 split regex, bytes mapped to printable characters, then BPE.</li>
 * </ul>
 * Special (added) tokens are matched first and never split. Merges apply in rank order, lowest first.
 */
public final class BpeTokenizer implements Tokenizer {
    private static final Pattern GPT2_SPLIT = Pattern.compile(
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+");

    private final Map<String, Integer> vocab = new HashMap<>();
    private final String[] byId;
    private final Map<String, Integer> mergeRank = new HashMap<>();
    private final Map<String, Integer> specials = new LinkedHashMap<>();
    private final boolean byteLevel;
    private final boolean byteFallback;
    private final boolean prependSpace;
    private final boolean spaceToMeta;
    private final boolean metaspaceSplit;
    private final Integer unk;
    private final List<Integer> prefixIds = new ArrayList<>();
    private final List<Integer> suffixIds = new ArrayList<>();
    private final int pad;
    private static final String[] BYTE_TO_UNICODE = byteToUnicode();
    private final Map<String, Integer> unicodeToByte = new HashMap<>();

    BpeTokenizer(JsonNode json) {
        JsonNode model = json.path("model");
        model.path("vocab").fields().forEachRemaining(e -> vocab.put(e.getKey(), e.getValue().asInt()));
        int rank = 0;
        for (JsonNode m : model.path("merges")) {
            String pair = m.isArray() ? m.get(0).asText() + " " + m.get(1).asText() : m.asText();
            mergeRank.putIfAbsent(pair, rank++);
        }
        for (JsonNode t : json.path("added_tokens")) {
            vocab.putIfAbsent(t.path("content").asText(), t.path("id").asInt());
            specials.put(t.path("content").asText(), t.path("id").asInt());
        }
        int max = vocab.values().stream().mapToInt(Integer::intValue).max().orElse(-1);
        byId = new String[max + 1];
        vocab.forEach((k, v) -> byId[v] = k);
        byteFallback = model.path("byte_fallback").asBoolean(false);
        String unkToken = model.path("unk_token").asText(null);
        unk = unkToken == null ? null : vocab.get(unkToken);
        boolean prepend = false, replace = false;
        for (JsonNode n : flatten(json.path("normalizer"))) {
            String type = n.path("type").asText();
            switch (type) {
                case "Prepend" -> prepend = n.path("prepend").asText().equals("▁");
                case "Replace" -> replace = n.path("pattern").path("String").asText().equals(" ") && n.path("content").asText().equals("▁");
                case "NFC", "NFKC" -> { }
                default -> throw new UnsupportedModelException("tokenizer normalizer " + type + " is not supported with BPE");
            }
        }
        boolean bl = false, meta = false;
        for (JsonNode n : flatten(json.path("pre_tokenizer"))) {
            String type = n.path("type").asText();
            switch (type) {
                case "ByteLevel" -> bl = true;
                case "Metaspace" -> {
                    meta = true;
                    replace = true;
                    String scheme = n.path("prepend_scheme").asText(n.path("add_prefix_space").asBoolean(true) ? "always" : "never");
                    prepend = !scheme.equals("never");
                }
                case "Split", "Digits" -> throw new UnsupportedModelException("tokenizer pre-tokenizer " + type + " is not supported yet");
                default -> throw new UnsupportedModelException("tokenizer pre-tokenizer " + type + " is not supported");
            }
        }
        byteLevel = bl;
        metaspaceSplit = meta;
        prependSpace = prepend;
        spaceToMeta = replace;
        for (int b = 0; b < 256; b++) unicodeToByte.put(BYTE_TO_UNICODE[b], b);
        JsonNode post = json.path("post_processor");
        if (post.path("type").asText().equals("TemplateProcessing")) {
            boolean seenSequence = false;
            for (JsonNode piece : post.path("single")) {
                if (piece.has("Sequence")) {
                    seenSequence = true;
                } else if (piece.has("SpecialToken")) {
                    Integer id = vocab.get(piece.path("SpecialToken").path("id").asText());
                    if (id != null) (seenSequence ? suffixIds : prefixIds).add(id);
                }
            }
        }
        pad = vocab.getOrDefault("<pad>", vocab.getOrDefault("<unk>", 0));
    }

    private static List<JsonNode> flatten(JsonNode n) {
        List<JsonNode> out = new ArrayList<>();
        if (n == null || n.isNull() || n.isMissingNode()) return out;
        JsonNode inner = n.has("normalizers") ? n.get("normalizers") : n.has("pretokenizers") ? n.get("pretokenizers") : null;
        if (inner != null) for (JsonNode c : inner) out.addAll(flatten(c));
        else out.add(n);
        return out;
    }

    @Override
    public Encoding encode(String text, int maxLength) {
        List<Integer> ids = new ArrayList<>(prefixIds);
        // Split out special tokens, then encode the text between them.
        int i = 0;
        StringBuilder plain = new StringBuilder();
        boolean atStart = true;
        while (i < text.length()) {
            String matched = null;
            for (String s : specials.keySet()) if (!s.isEmpty() && text.startsWith(s, i) && (matched == null || s.length() > matched.length())) matched = s;
            if (matched != null) {
                encodeText(plain.toString(), ids, atStart);
                plain.setLength(0);
                ids.add(specials.get(matched));
                i += matched.length();
                atStart = false;
            } else {
                plain.append(text.charAt(i++));
            }
        }
        encodeText(plain.toString(), ids, atStart);
        ids.addAll(suffixIds);
        if (maxLength > 0 && ids.size() > maxLength) ids = new ArrayList<>(ids.subList(0, maxLength));
        int[] a = ids.stream().mapToInt(Integer::intValue).toArray();
        int[] mask = new int[a.length];
        java.util.Arrays.fill(mask, 1);
        return new Encoding(a, mask, new int[a.length]);
    }

    private void encodeText(String text, List<Integer> out, boolean atStart) {
        if (text.isEmpty()) return;
        if (byteLevel) {
            Matcher m = GPT2_SPLIT.matcher(text);
            while (m.find()) {
                byte[] bytes = m.group().getBytes(StandardCharsets.UTF_8);
                List<String> symbols = new ArrayList<>();
                for (byte b : bytes) symbols.add(BYTE_TO_UNICODE[b & 0xFF]);
                bpe(symbols, out);
            }
            return;
        }
        String s = spaceToMeta ? text.replace(" ", "▁") : text;
        // The Prepend normalizer always adds "▁"; Metaspace adds it (at the start only) unless one is there.
        if (prependSpace && (metaspaceSplit ? atStart && !s.startsWith("▁") : true)) s = "▁" + s;
        if (metaspaceSplit) {
            // pieces start at each ▁
            int start = 0;
            for (int k = 1; k <= s.length(); k++) {
                if (k == s.length() || s.charAt(k) == '▁') {
                    bpe(chars(s.substring(start, k)), out);
                    start = k;
                }
            }
        } else {
            bpe(chars(s), out);
        }
    }

    private static List<String> chars(String s) {
        List<String> out = new ArrayList<>();
        s.codePoints().forEach(c -> out.add(new String(Character.toChars(c))));
        return out;
    }

    /** Merges symbols by rank (lowest first, leftmost on ties) and appends their ids. */
    private void bpe(List<String> symbols, List<Integer> out) {
        if (symbols.isEmpty()) return;
        List<String> sym = new ArrayList<>(symbols);
        while (sym.size() > 1) {
            int best = -1, bestRank = Integer.MAX_VALUE;
            for (int k = 0; k + 1 < sym.size(); k++) {
                Integer r = mergeRank.get(sym.get(k) + " " + sym.get(k + 1));
                if (r != null && r < bestRank) {
                    bestRank = r;
                    best = k;
                }
            }
            if (best < 0) break;
            sym.set(best, sym.get(best) + sym.get(best + 1));
            sym.remove(best + 1);
        }
        for (String s : sym) {
            Integer id = vocab.get(s);
            if (id != null) {
                out.add(id);
            } else if (byteFallback) {
                for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
                    Integer bid = vocab.get(String.format("<0x%02X>", b & 0xFF));
                    if (bid != null) out.add(bid);
                    else if (unk != null) out.add(unk);
                }
            } else if (unk != null) {
                out.add(unk);
            }
        }
    }

    @Override
    public String decode(int[] ids) {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        for (int id : ids) {
            if (id < 0 || id >= byId.length || byId[id] == null || specials.containsValue(id)) continue;
            String t = byId[id];
            if (byteLevel) {
                t.codePoints().forEach(c -> {
                    Integer b = unicodeToByte.get(new String(Character.toChars(c)));
                    if (b != null) bytes.write(b);
                });
            } else if (t.length() == 6 && t.startsWith("<0x") && t.endsWith(">")) {
                bytes.write(Integer.parseInt(t.substring(3, 5), 16));
            } else {
                bytes.writeBytes(t.replace('▁', ' ').getBytes(StandardCharsets.UTF_8));
            }
        }
        String s = bytes.toString(StandardCharsets.UTF_8);
        return !byteLevel && prependSpace && s.startsWith(" ") ? s.substring(1) : s;
    }

    @Override public int vocabSize() { return byId.length; }

    @Override public int padId() { return pad; }

    /** GPT-2's reversible map from bytes to printable characters. */
    private static String[] byteToUnicode() {
        String[] m = new String[256];
        List<Integer> direct = new ArrayList<>();
        for (int b = '!'; b <= '~'; b++) direct.add(b);
        for (int b = 0xA1; b <= 0xAC; b++) direct.add(b);
        for (int b = 0xAE; b <= 0xFF; b++) direct.add(b);
        int n = 0;
        for (int b = 0; b < 256; b++) {
            if (direct.contains(b)) m[b] = new String(Character.toChars(b));
            else m[b] = new String(Character.toChars(256 + n++));
        }
        return m;
    }

}
