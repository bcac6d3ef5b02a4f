package dev.tamp.formats.fuzz;

import dev.tamp.formats.TestModels;
import dev.tamp.formats.fuzz.Mutations.Field;
import dev.tamp.formats.fuzz.Mutations.Mutant;
import dev.tamp.formats.fuzz.Mutations.Mutator;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** llama2.c seeds: the real stories260K checkpoint, and a tiny synthetic one with an unshared classifier. */
final class Llama2cSeeds {
    private Llama2cSeeds() {}

    private static final String[] HEADER = {"dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads", "vocab_size", "seq_len"};

    static List<Mutator> mutators() {
        List<Field> fields = new ArrayList<>();
        for (int i = 0; i < HEADER.length; i++) fields.add(new Field(HEADER[i], 4 * i, 4));
        return List.of(Mutations.fields(fields), Mutations.fields(fields),
                (s, r) -> {
                    int delta = 4 * r.nextInt(-64, 65);
                    return new Mutant(Arrays.copyOf(s, Math.max(0, s.length + delta)), "length changed by " + delta + " bytes");
                },
                (s, r) -> new Mutant(Mutations.put(s, 20, 4, -Mutations.get(s, 20, 4)), "classifier sharing flipped"));
    }

    /** dim 8, hidden 12, 2 layers, 2 heads, 1 kv head, vocab 10 (unshared classifier), seq 6, with freq_cis. */
    static byte[] tiny() {
        int dim = 8, hidden = 12, layers = 2, kvDim = 4, vocab = 10, seq = 6, headSize = 4;
        long perLayer = 2L * dim + 2L * dim * dim + 2L * dim * kvDim + 3L * dim * hidden;
        long floats = 2L * vocab * dim + layers * perLayer + dim + (long) seq * headSize;
        ByteBuffer b = ByteBuffer.allocate((int) (28 + 4 * floats)).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(dim).putInt(hidden).putInt(layers).putInt(2).putInt(1).putInt(-vocab).putInt(seq);
        for (int i = 0; i < floats; i++) b.putFloat((float) Math.cos(0.1 * i));
        return b.array();
    }

    static List<FuzzSeed> seeds() {
        try {
            return List.of(FuzzSeed.single("llama2c-tiny", "seed.bin", tiny(), mutators()),
                    FuzzSeed.single("llama2c-stories260K", "seed.bin", Files.readAllBytes(TestModels.stories()), mutators()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
