package dev.tamp.runtime.tokenizer;

/** One step of a tokenizer.json {@code normalizer}: text in, text out (applied to the text between added tokens). */
interface Normalizer {
    String normalize(String text);

    Normalizer IDENTITY = text -> text;
}
