package dev.tamp.runtime.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tamp.core.error.BadInputException;
import dev.tamp.core.error.UnsupportedModelException;
import dev.tamp.core.json.Json;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Choosing the implementation, and refusing what is not implemented or not consistent, with a message naming it. */
class TokenizersTest {
    static byte[] bytes(ObjectNode json) throws Exception {
        return Json.mapper().writeValueAsBytes(json);
    }

    static ObjectNode miniLm() throws Exception {
        return (ObjectNode) Json.parse(WordPieceTokenizerTest.resource("/all-minilm-l6-v2-tokenizer.json"));
    }

    static ObjectNode tinyBpe() {
        ObjectNode j = Json.object();
        ObjectNode model = j.putObject("model").put("type", "BPE");
        model.putObject("vocab").put("a", 0).put("b", 1).put("ab", 2);
        model.putArray("merges").add("a b");
        return j;
    }

    @Test
    void picksTheImplementationByModelType() throws Exception {
        assertTrue(Tokenizers.fromJson(bytes(miniLm())) instanceof WordPieceTokenizer);
        Tokenizer bpe = Tokenizers.fromJson(bytes(tinyBpe()));
        assertTrue(bpe instanceof BpeTokenizer);
        assertEquals(List.of(2, 0), java.util.Arrays.stream(bpe.encode("aba").ids()).boxed().toList());
    }

    @Test
    void unsupportedPiecesAreNamed() throws Exception {
        ObjectNode unigram = Json.object();
        unigram.putObject("model").put("type", "Unigram").putArray("vocab");
        var e = assertThrows(UnsupportedModelException.class, () -> Tokenizers.fromJson(bytes(unigram)));
        assertTrue(e.getMessage().contains("Unigram"), e.getMessage());

        ObjectNode precompiled = miniLm();
        precompiled.putObject("normalizer").put("type", "Precompiled").put("precompiled_charsmap", "AAAA");
        e = assertThrows(UnsupportedModelException.class, () -> Tokenizers.fromJson(bytes(precompiled)));
        assertTrue(e.getMessage().contains("Precompiled"), e.getMessage());

        ObjectNode charDelim = miniLm();
        charDelim.putObject("pre_tokenizer").put("type", "CharDelimiterSplit").put("delimiter", "-");
        e = assertThrows(UnsupportedModelException.class, () -> Tokenizers.fromJson(bytes(charDelim)));
        assertTrue(e.getMessage().contains("CharDelimiterSplit"), e.getMessage());

        ObjectNode ctc = miniLm();
        ctc.putObject("decoder").put("type", "CTC");
        e = assertThrows(UnsupportedModelException.class, () -> Tokenizers.fromJson(bytes(ctc)));
        assertTrue(e.getMessage().contains("CTC"), e.getMessage());

        ObjectNode dropout = tinyBpe();
        ((ObjectNode) dropout.get("model")).put("dropout", 0.1);
        e = assertThrows(UnsupportedModelException.class, () -> Tokenizers.fromJson(bytes(dropout)));
        assertTrue(e.getMessage().contains("dropout"), e.getMessage());
    }

    @Test
    void inconsistentFilesAreBadInput() throws Exception {
        assertThrows(BadInputException.class, () -> Tokenizers.fromJson("{\"model\": ".getBytes(StandardCharsets.UTF_8)));
        assertThrows(BadInputException.class, () -> Tokenizers.fromJson("[1, 2]".getBytes(StandardCharsets.UTF_8)));
        ObjectNode badMerge = tinyBpe();
        ((ObjectNode) badMerge.get("model")).putArray("merges").add("a c");
        var e = assertThrows(BadInputException.class, () -> Tokenizers.fromJson(bytes(badMerge)));
        assertTrue(e.getMessage().contains("a c"), e.getMessage());
        ObjectNode hugeId = tinyBpe();
        ((ObjectNode) hugeId.get("model").get("vocab")).put("c", 2_000_000_000);
        e = assertThrows(BadInputException.class, () -> Tokenizers.fromJson(bytes(hugeId)));
        assertTrue(e.getMessage().contains("2000000000"), e.getMessage());
        ObjectNode noUnk = miniLm();
        ((ObjectNode) noUnk.get("model")).put("unk_token", "[NOPE]");
        assertThrows(BadInputException.class, () -> Tokenizers.fromJson(bytes(noUnk)));
        Tokenizer t = Tokenizers.fromJson(bytes(miniLm()));
        assertThrows(BadInputException.class, () -> t.encode("hello", 1), "max length below the two special tokens");
    }
}
