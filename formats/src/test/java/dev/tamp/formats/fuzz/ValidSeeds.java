package dev.tamp.formats.fuzz;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.tamp.core.ir.Model;
import dev.tamp.core.progress.Progress;
import dev.tamp.formats.io.CheckpointReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** A seed must read cleanly, with weights that pass the invariants; otherwise its mutants prove nothing. */
final class ValidSeeds {
    private ValidSeeds() {}

    static void assertReads(CheckpointReader reader, FuzzSeed s, Path work) {
        Path dir = work.resolve("valid-" + s.label());
        try {
            Files.createDirectories(dir);
            for (Map.Entry<String, byte[]> f : s.files().entrySet()) Files.write(dir.resolve(f.getKey()), f.getValue());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Model m = reader.read(s.open().equals(".") ? dir : dir.resolve(s.open()), Progress.NONE);
        assertFalse(m.weights().isEmpty(), s.label() + " has weights");
        m.weights().forEach((name, w) -> assertNull(EncodedInvariants.violation(name, w), s.label()));
    }
}
