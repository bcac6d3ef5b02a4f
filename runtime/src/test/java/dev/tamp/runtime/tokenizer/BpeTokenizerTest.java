package dev.tamp.runtime.tokenizer;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tamp.core.json.Json;
import dev.tamp.runtime.data.CalibrationSampler;
import dev.tamp.runtime.data.TextCorpus;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * BPE against the reference Hugging Face tokenizers library on tokenizer.json files built here the way Llama
 * (SentencePiece conversion: Prepend/Replace "▁", byte fallback) and GPT-2 (ByteLevel) ship them, with merges
 * learned by a small BPE trainer over the bundled corpus (no real Llama tokenizer is available offline).
 */
class BpeTokenizerTest {
    @TempDir Path tmp;

    static final List<String> HARD = List.of("", " ", "Hello  world", " leading space", "trailing ", "日本語テキスト", "emoji 😀 ok",
            "Ünïcödé ÀÉ", "tabs\tand\nnewlines", "<s>inside</s> specials", "don't won't it's", "1234567 numbers 3.14");

    /** Learns {@code merges} merges over words given as symbol lists (most frequent pair, ties by first seen). */
    static List<String[]> train(List<List<String>> words, int merges) {
        List<String[]> out = new ArrayList<>();
        List<List<String>> ws = new ArrayList<>();
        for (List<String> w : words) ws.add(new ArrayList<>(w));
        for (int m = 0; m < merges; m++) {
            Map<String, Integer> counts = new LinkedHashMap<>();
            for (List<String> w : ws) for (int i = 0; i + 1 < w.size(); i++) counts.merge(w.get(i) + "\u0000" + w.get(i + 1), 1, Integer::sum);
            String best = null;
            int bc = 1;
            for (var e : counts.entrySet()) if (e.getValue() > bc) { bc = e.getValue(); best = e.getKey(); }
            if (best == null) break;
            String[] pair = best.split("\u0000");
            out.add(pair);
            for (List<String> w : ws) {
                for (int i = 0; i + 1 < w.size(); i++) {
                    if (w.get(i).equals(pair[0]) && w.get(i + 1).equals(pair[1])) {
                        w.set(i, pair[0] + pair[1]);
                        w.remove(i + 1);
                    }
                }
            }
        }
        return out;
    }

    static List<String> corpus() {
        return CalibrationSampler.sample(TextCorpus.bundled(TextCorpus.Split.CALIBRATION), CalibrationSampler.Mode.SENTENCE, 1500, 2, 0);
    }

    static List<String> cps(String s) {
        List<String> out = new ArrayList<>();
        s.codePoints().forEach(c -> out.add(new String(Character.toChars(c))));
        return out;
    }

    ObjectNode llamaStyle() {
        List<List<String>> words = new ArrayList<>();
        LinkedHashSet<String> chars = new LinkedHashSet<>();
        for (String line : corpus().subList(0, 800)) {
            for (String w : line.split(" ")) {
                List<String> sym = cps("▁" + w);
                chars.addAll(sym);
                words.add(sym);
            }
        }
        List<String[]> merges = train(words, 400);
        ObjectNode j = Json.object();
        ObjectNode vocab = Json.object();
        int id = 0;
        vocab.put("<unk>", id++);
        vocab.put("<s>", id++);
        vocab.put("</s>", id++);
        for (int b = 0; b < 256; b++) vocab.put(String.format("<0x%02X>", b), id++);
        for (String c : chars) if (!vocab.has(c)) vocab.put(c, id++);
        ArrayNode mj = Json.mapper().createArrayNode();
        for (String[] p : merges) {
            if (!vocab.has(p[0] + p[1])) vocab.put(p[0] + p[1], id++);
            mj.add(p[0] + " " + p[1]);
        }
        j.put("version", "1.0");
        ArrayNode added = j.putArray("added_tokens");
        String[] sp = {"<unk>", "<s>", "</s>"};
        for (int i = 0; i < 3; i++) {
            ObjectNode t = added.addObject();
            t.put("id", i).put("content", sp[i]).put("single_word", false).put("lstrip", false).put("rstrip", false)
                    .put("normalized", false).put("special", true);
        }
        ObjectNode norm = j.putObject("normalizer");
        norm.put("type", "Sequence");
        ArrayNode ns = norm.putArray("normalizers");
        ns.addObject().put("type", "Prepend").put("prepend", "▁");
        ObjectNode rep = ns.addObject().put("type", "Replace");
        rep.putObject("pattern").put("String", " ");
        rep.put("content", "▁");
        j.putNull("pre_tokenizer");
        ObjectNode post = j.putObject("post_processor");
        post.put("type", "TemplateProcessing");
        ArrayNode single = post.putArray("single");
        single.addObject().putObject("SpecialToken").put("id", "<s>").put("type_id", 0);
        single.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        ArrayNode pair = post.putArray("pair");
        pair.addObject().putObject("SpecialToken").put("id", "<s>").put("type_id", 0);
        pair.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
        pair.addObject().putObject("Sequence").put("id", "B").put("type_id", 1);
        ObjectNode stoks = post.putObject("special_tokens");
        ObjectNode s = stoks.putObject("<s>");
        s.put("id", "<s>");
        s.putArray("ids").add(1);
        s.putArray("tokens").add("<s>");
        ObjectNode model = j.putObject("model");
        model.put("type", "BPE").putNull("dropout");
        model.put("unk_token", "<unk>").putNull("continuing_subword_prefix");
        model.putNull("end_of_word_suffix");
        model.put("fuse_unk", true).put("byte_fallback", true).put("ignore_merges", false);
        model.set("vocab", vocab);
        model.set("merges", mj);
        return j;
    }

    ObjectNode gpt2Style() {
        // byte-level alphabet, words split by the GPT-2 regex with the leading space kept
        Map<Integer, String> b2u = new HashMap<>();
        List<Integer> direct = new ArrayList<>();
        for (int b = '!'; b <= '~'; b++) direct.add(b);
        for (int b = 0xA1; b <= 0xAC; b++) direct.add(b);
        for (int b = 0xAE; b <= 0xFF; b++) direct.add(b);
        int n = 0;
        for (int b = 0; b < 256; b++) b2u.put(b, direct.contains(b) ? new String(Character.toChars(b)) : new String(Character.toChars(256 + n++)));
        List<List<String>> words = new ArrayList<>();
        java.util.regex.Pattern split = java.util.regex.Pattern.compile("'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+");
        for (String line : corpus().subList(0, 800)) {
            var m = split.matcher(line);
            while (m.find()) {
                List<String> sym = new ArrayList<>();
                for (byte b : m.group().getBytes(StandardCharsets.UTF_8)) sym.add(b2u.get(b & 0xFF));
                words.add(sym);
            }
        }
        List<String[]> merges = train(words, 400);
        ObjectNode j = Json.object();
        ObjectNode vocab = Json.object();
        int id = 0;
        for (int b = 0; b < 256; b++) vocab.put(b2u.get(b), id++);
        ArrayNode mj = Json.mapper().createArrayNode();
        for (String[] p : merges) {
            if (!vocab.has(p[0] + p[1])) vocab.put(p[0] + p[1], id++);
            mj.add(p[0] + " " + p[1]);
        }
        vocab.put("<|endoftext|>", id);
        j.put("version", "1.0");
        j.putArray("added_tokens").addObject().put("id", id).put("content", "<|endoftext|>").put("single_word", false)
                .put("lstrip", false).put("rstrip", false).put("normalized", false).put("special", true);
        j.putNull("normalizer");
        j.putObject("pre_tokenizer").put("type", "ByteLevel").put("add_prefix_space", false).put("trim_offsets", true).put("use_regex", true);
        j.putObject("post_processor").put("type", "ByteLevel").put("add_prefix_space", false).put("trim_offsets", false).put("use_regex", true);
        j.putObject("decoder").put("type", "ByteLevel").put("add_prefix_space", false).put("trim_offsets", true).put("use_regex", true);
        ObjectNode model = j.putObject("model");
        model.put("type", "BPE").putNull("dropout");
        model.putNull("unk_token");
        model.putNull("continuing_subword_prefix");
        model.putNull("end_of_word_suffix");
        model.put("fuse_unk", false).put("byte_fallback", false).put("ignore_merges", false);
        model.set("vocab", vocab);
        model.set("merges", mj);
        return j;
    }

    void compare(ObjectNode json, String name) throws Exception {
        byte[] bytes = Json.mapper().writeValueAsBytes(json);
        Path f = tmp.resolve(name + ".json");
        Files.write(f, bytes);
        Tokenizer ours = Tokenizers.fromJson(bytes);
        List<String> texts = new ArrayList<>(HARD);
        texts.addAll(corpus().subList(800, 1500));
        int mismatches = 0;
        String first = null;
        try (HuggingFaceTokenizer ref = HuggingFaceTokenizer.newInstance(f, Map.of("addSpecialTokens", "true", "truncation", "false", "padding", "false"))) {
            for (String t : texts) {
                long[] want = ref.encode(t).getIds();
                int[] got = ours.encode(t, 0).ids();
                boolean same = want.length == got.length;
                for (int i = 0; same && i < got.length; i++) same = want[i] == got[i];
                if (!same) {
                    mismatches++;
                    if (first == null) first = "'" + t + "'\n  ref  " + java.util.Arrays.toString(want) + "\n  ours " + java.util.Arrays.toString(got);
                }
                if (!t.contains("<s>") && !t.contains("</s>")) {
                    String back = ours.decode(got);
                    assertEquals(t.replace("\t", "\t"), back, "decode(encode(x)) = x for " + name);
                }
            }
        }
        System.err.printf("BPE %s: %d texts, %d mismatches%n", name, texts.size(), mismatches);
        assertEquals(0, mismatches, "first mismatch: " + first);
    }

    @Test
    void llamaStyleMatchesHuggingFace() throws Exception {
        compare(llamaStyle(), "llama");
    }

    @Test
    void gpt2ByteLevelMatchesHuggingFace() throws Exception {
        compare(gpt2Style(), "gpt2");
    }
}
