package dev.tamp.formats.fuzz;

import dev.tamp.formats.fuzz.Mutations.Mutator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A valid checkpoint to mutate: its files (name relative to a case directory → bytes), the path the reader
 * opens ({@code "."} for the directory itself), and the format-aware mutations of each file. Every file also
 * gets the generic byte mutations.
 */
record FuzzSeed(String label, Map<String, byte[]> files, String open, Map<String, List<Mutator>> mutators) {
    static FuzzSeed single(String label, String fileName, byte[] bytes, List<Mutator> mutators) {
        Map<String, byte[]> f = new LinkedHashMap<>();
        f.put(fileName, bytes);
        return new FuzzSeed(label, f, fileName, Map.of(fileName, mutators));
    }

    long totalBytes() {
        long n = 0;
        for (byte[] b : files.values()) n += b.length;
        return n;
    }
}
