package dev.tamp.runtime.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tamp.core.error.BadInputException;
import dev.tamp.core.error.UnsupportedModelException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Byte-pair encoding from a Hugging Face tokenizer.json, in the forms Llama-family and GPT-2-family models ship:
 * SentencePiece conversions (Prepend/Replace "▁" normalizers or a Metaspace pre-tokenizer, characters as base
 * symbols, {@code byte_fallback} to {@code <0xNN>} tokens) and GPT-2 ByteLevel (bytes mapped to printable
 * characters). A word starts as its characters (unknown ones as their UTF-8 byte tokens, or the unknown
 * token); then the ranked merges apply, lowest rank first and leftmost among equals, until none applies.
 */
public final class BpeTokenizer extends PipelineTokenizer {
    /** Words remembered per tokenizer (as Hugging Face's BPE cache); past this, words are merged afresh. */
    private static final int CACHE_CAPACITY = 10_000;

    private final PairRanks ranks;
    private final int[] mergedId;
    private final int[] byteIds = new int[256];
    private final boolean byteFallback;
    private final boolean fuseUnk;
    private final boolean ignoreMerges;
    private final String prefix;
    private final String suffix;
    private final int unk;
    private final ConcurrentHashMap<String, int[]> cache = new ConcurrentHashMap<>();

    BpeTokenizer(JsonNode json) {
        super(json);
        JsonNode model = json.path("model");
        requireModelKeys(model, "BPE", List.of("type", "vocab", "merges", "dropout", "unk_token", "continuing_subword_prefix",
                "end_of_word_suffix", "fuse_unk", "byte_fallback", "ignore_merges"));
        JsonNode dropout = model.path("dropout");
        if (!dropout.isMissingNode() && !dropout.isNull() && dropout.asDouble() != 0.0) {
            throw new UnsupportedModelException("tokenizer.json BPE dropout " + dropout + " is not supported (tokenization would be random)");
        }
        byteFallback = model.path("byte_fallback").asBoolean(false);
        fuseUnk = model.path("fuse_unk").asBoolean(false);
        ignoreMerges = model.path("ignore_merges").asBoolean(false);
        prefix = textOrNull(model.path("continuing_subword_prefix"));
        suffix = textOrNull(model.path("end_of_word_suffix"));
        String unkToken = textOrNull(model.path("unk_token"));
        unk = unkToken == null ? -1 : modelId(unkToken);
        if (unkToken != null && unk < 0) throw new BadInputException("tokenizer.json BPE unk_token '" + unkToken + "' is not in the vocabulary");
        for (int b = 0; b < 256; b++) byteIds[b] = modelId(String.format("<0x%02X>", b));

        JsonNode merges = model.path("merges");
        ranks = new PairRanks(merges.size());
        mergedId = new int[merges.size()];
        int rank = 0;
        for (JsonNode m : merges) {
            String left, right;
            if (m.isArray() && m.size() == 2) {
                left = m.get(0).asText();
                right = m.get(1).asText();
            } else {
                String[] parts = m.asText().split(" ", -1);
                if (parts.length != 2) throw new BadInputException("tokenizer.json BPE merge " + m + " is not two tokens");
                left = parts[0];
                right = parts[1];
            }
            int l = modelId(left), r = modelId(right), joined = modelId(left + right);
            if (l < 0 || r < 0 || joined < 0) {
                throw new BadInputException("tokenizer.json BPE merge " + m + " uses a token that is not in the vocabulary");
            }
            // A repeated pair keeps its last rank, as the map Hugging Face builds in merge order does.
            ranks.put(l, r, rank);
            mergedId[rank++] = joined;
        }
    }

    private static String textOrNull(JsonNode n) {
        return n.isTextual() ? n.asText() : null;
    }

    private int modelId(String token) {
        Integer id = vocab.get(token);
        return id == null ? -1 : id;
    }

    @Override
    void tokenizeWord(String word, IntList out) {
        if (word.isEmpty()) return;
        if (ignoreMerges) {
            Integer id = vocab.get(word);
            if (id != null) {
                out.add(id);
                return;
            }
        }
        int[] ids = cache.get(word);
        if (ids == null) {
            ids = merge(word);
            if (cache.size() < CACHE_CAPACITY) cache.put(word, ids);
        }
        out.addAll(ids);
    }

    /** The word's characters as symbols, then merged. */
    private int[] merge(String word) {
        IntList sym = new IntList(word.length() + 4);
        int pendingUnk = -1; // an unknown token not yet emitted (fuse_unk joins runs of them)
        for (int i = 0; i < word.length(); ) {
            int c = word.codePointAt(i);
            int next = i + Character.charCount(c);
            String s = word.substring(i, next);
            if (i > 0 && prefix != null) s = prefix + s;
            if (next == word.length() && suffix != null) s = s + suffix;
            i = next;
            Integer id = vocab.get(s);
            if (id != null) {
                if (pendingUnk >= 0) {
                    sym.add(pendingUnk);
                    pendingUnk = -1;
                }
                sym.add(id);
                continue;
            }
            if (byteFallback && addBytes(s, sym)) continue; // (a pending unknown stays pending, as in Hugging Face)
            if (unk >= 0) {
                if (pendingUnk >= 0 && !fuseUnk) sym.add(pendingUnk);
                pendingUnk = unk;
            }
        }
        if (pendingUnk >= 0) sym.add(pendingUnk);
        return applyMerges(sym.toArray());
    }

    /** Appends the byte tokens of {@code s}; false (nothing appended) when one of them is not in the vocabulary. */
    private boolean addBytes(String s, IntList sym) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        for (byte b : bytes) if (byteIds[b & 0xFF] < 0) return false;
        for (byte b : bytes) sym.add(byteIds[b & 0xFF]);
        return true;
    }

    /**
     * Merges in rank order with a queue of candidate pairs (rank, position), skipping entries made stale by an
     * earlier merge — the order Hugging Face's BPE uses, so ties and overlaps resolve identically.
     */
    private int[] applyMerges(int[] id) {
        int n = id.length;
        if (n < 2) return id;
        int[] prev = new int[n], next = new int[n];
        boolean[] gone = new boolean[n];
        for (int i = 0; i < n; i++) {
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        PriorityQueue<Long> queue = new PriorityQueue<>();
        for (int i = 0; i + 1 < n; i++) {
            int r = ranks.get(id[i], id[i + 1]);
            if (r >= 0) queue.add(entry(r, i));
        }
        int alive = n;
        while (!queue.isEmpty()) {
            long top = queue.poll();
            int rank = (int) (top >>> 32), pos = (int) top;
            if (gone[pos] || next[pos] < 0) continue;
            int right = next[pos];
            int r = ranks.get(id[pos], id[right]);
            if (r < 0 || mergedId[r] != mergedId[rank]) continue;
            id[pos] = mergedId[rank];
            gone[right] = true;
            alive--;
            next[pos] = next[right];
            if (next[right] >= 0) prev[next[right]] = pos;
            if (prev[pos] >= 0) {
                int pr = ranks.get(id[prev[pos]], id[pos]);
                if (pr >= 0) queue.add(entry(pr, prev[pos]));
            }
            if (next[pos] >= 0) {
                int nr = ranks.get(id[pos], id[next[pos]]);
                if (nr >= 0) queue.add(entry(nr, pos));
            }
        }
        int[] out = new int[alive];
        int k = 0;
        for (int i = 0; i < n; i++) if (!gone[i]) out[k++] = id[i];
        return out;
    }

    private static long entry(int rank, int pos) {
        return ((long) rank << 32) | pos;
    }

    @Override int modelMaxLength() { return 0; }

    @Override public int unkId() { return unk; }
}
