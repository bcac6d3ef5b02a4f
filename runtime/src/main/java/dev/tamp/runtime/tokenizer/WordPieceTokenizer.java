package dev.tamp.runtime.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tamp.core.error.BadInputException;
import java.util.List;

/**
 * BERT-family tokenizer (MiniLM, BGE, …) from a Hugging Face tokenizer.json: usually BertNormalizer and
 * BertPreTokenizer, then WordPiece — greedy longest-match-first over code points with the continuing-subword
 * prefix ("##"); a word longer than max_input_chars_per_word, or one with a piece the vocabulary lacks, is one
 * unknown token — and the [CLS] … [SEP] template.
 */
public final class WordPieceTokenizer extends PipelineTokenizer {
    /** BERT-family position tables have 512 rows: the limit when neither caller nor tokenizer.json gives one. */
    private static final int BERT_MAX_POSITIONS = 512;

    private final String prefix;
    private final int maxWordChars;
    private final int unk;

    WordPieceTokenizer(JsonNode json) {
        super(json);
        JsonNode model = json.path("model");
        requireModelKeys(model, "WordPiece", List.of("type", "vocab", "unk_token", "continuing_subword_prefix", "max_input_chars_per_word"));
        prefix = model.path("continuing_subword_prefix").asText("##");
        maxWordChars = model.path("max_input_chars_per_word").asInt(100);
        String unkToken = model.path("unk_token").asText("[UNK]");
        unk = tokenToId(unkToken);
        if (unk < 0) throw new BadInputException("tokenizer.json WordPiece unk_token '" + unkToken + "' is not in the vocabulary");
    }

    @Override
    void tokenizeWord(String word, IntList out) {
        int chars = word.codePointCount(0, word.length());
        if (chars > maxWordChars) {
            out.add(unk);
            return;
        }
        Integer whole = vocab.get(word);
        if (whole != null) {
            out.add(whole);
            return;
        }
        int mark = out.size();
        int start = 0;
        StringBuilder probe = new StringBuilder(prefix.length() + word.length());
        while (start < word.length()) {
            int end = word.length();
            Integer found = null;
            while (end > start) {
                probe.setLength(0);
                if (start > 0) probe.append(prefix);
                probe.append(word, start, end);
                found = vocab.get(probe.toString());
                if (found != null) break;
                // shorten by one code point, never splitting a surrogate pair
                end -= Character.charCount(word.codePointBefore(end));
            }
            if (found == null) {
                out.truncate(mark);
                out.add(unk);
                return;
            }
            out.add(found);
            start = end;
        }
    }

    @Override int modelMaxLength() { return BERT_MAX_POSITIONS; }

    @Override public int unkId() { return unk; }
}
