package dev.tamp.runtime.tokenizer;

import java.util.List;

/** One step of a tokenizer.json {@code pre_tokenizer}: cuts normalized text into the words the model sees. */
interface PreTokenizer {
    /**
     * Appends the non-empty pieces of {@code piece} to {@code out}. {@code piece.atStart()} says whether it begins
     * the original text (Metaspace's prepend_scheme "first" looks at that).
     */
    void split(Piece piece, List<Piece> out);

    record Piece(String text, boolean atStart) {}

    PreTokenizer NONE = (piece, out) -> {
        if (!piece.text().isEmpty()) out.add(piece);
    };
}
