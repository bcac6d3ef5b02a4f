package dev.tamp.runtime.tokenizer;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import dev.tamp.runtime.data.CalibrationSampler;
import dev.tamp.runtime.data.ParaphrasePairs;
import dev.tamp.runtime.data.TextCorpus;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Our WordPiece against the reference Hugging Face tokenizers library (Rust, through DJL's binding, offline)
 * on the real MiniLM and BGE vocabularies: thousands of real sentences plus hard cases.
 */
class WordPieceTokenizerTest {
    static final List<String> HARD = List.of("", "   ", "\t\n", "Héllo Wörld — naïve café, résumé!", "日本語のテキストと漢字", "emoji 😀👍🏽 and ©®",
            "a" + "b".repeat(150), "don't stop... (really?!) [yes]", "Ünïcödé ÀÉÎÕÜ ßẞ İstanbul", "x\u0000y\uFFFDz\u200Bw\u00ADv",
            "tab\tseparated\u00A0nbsp\u3000ideographic", "numbers 3.14159 and 1,000,000 $5 #hash @at", "ＦＵＬＬＷＩＤＴＨ ｔｅｘｔ",
            "word ".repeat(400));

    static byte[] resource(String name) throws Exception {
        try (InputStream in = WordPieceTokenizerTest.class.getResourceAsStream(name)) {
            return in.readAllBytes();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"/all-minilm-l6-v2-tokenizer.json", "/bge-small-en-v1.5-tokenizer.json"})
    void idsMatchHuggingFaceTokenizers(String resource) throws Exception {
        byte[] json = resource(resource);
        Tokenizer ours = Tokenizers.fromJson(json);
        Path tmp = Files.createTempFile("tokenizer", ".json");
        Files.write(tmp, json);
        List<String> texts = new ArrayList<>(HARD);
        texts.addAll(CalibrationSampler.sample(TextCorpus.bundled(TextCorpus.Split.ALL), CalibrationSampler.Mode.SENTENCE, 2000, 5, 0));
        ParaphrasePairs.evenlySpaced(500).forEach(p -> { texts.add(p.kjv()); texts.add(p.web()); });
        int maxLen = 128;
        try (HuggingFaceTokenizer ref = HuggingFaceTokenizer.newInstance(tmp, Map.of("maxLength", "128", "truncation", "true", "padding", "false"))) {
            int mismatches = 0;
            String first = null;
            for (String t : texts) {
                long[] want = ref.encode(t).getIds();
                int[] got = ours.encode(t, maxLen).ids();
                boolean same = want.length == got.length;
                for (int i = 0; same && i < got.length; i++) same = want[i] == got[i];
                if (!same) {
                    mismatches++;
                    if (first == null) first = t + "\n  ref  " + java.util.Arrays.toString(want) + "\n  ours " + java.util.Arrays.toString(got);
                }
            }
            System.err.printf("%s: %d texts, %d mismatches%n", resource, texts.size(), mismatches);
            assertEquals(0, mismatches, "first mismatch: " + first);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
