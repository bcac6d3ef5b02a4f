package dev.tamp.formats;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.error.BadInputException;
import dev.tamp.core.error.TampException;
import dev.tamp.core.error.UnsupportedModelException;
import dev.tamp.core.ir.Model;
import dev.tamp.core.progress.Progress;
import dev.tamp.formats.io.CheckpointReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.function.Executable;

/** Checks shared by the checkpoint reader tests: how bad input must fail, and corruption fuzzing. */
public final class ReaderAssertions {
    private ReaderAssertions() {}

    /** Fails unless {@code e} throws exactly a BadInputException whose one-line message names the file. */
    public static BadInputException assertBadInput(Path file, Executable e, String... fragments) {
        BadInputException x = assertThrows(BadInputException.class, e);
        checkMessage(file, x, fragments);
        return x;
    }

    public static UnsupportedModelException assertUnsupported(Path file, Executable e, String... fragments) {
        UnsupportedModelException x = assertThrows(UnsupportedModelException.class, e);
        checkMessage(file, x, fragments);
        return x;
    }

    private static void checkMessage(Path file, TampException x, String... fragments) {
        assertTrue(x.getMessage().contains(file.getFileName().toString()), "names the file: " + x.getMessage());
        for (String f : fragments) assertTrue(x.getMessage().contains(f), "mentions '" + f + "': " + x.getMessage());
        assertFalse(x.getMessage().contains("\n"), "one line: " + x.getMessage());
    }

    /** Reads every weight fully, so lazily mapped bytes are touched too. */
    public static void touchAll(Model m) {
        for (EncodedTensor t : m.weights().values()) {
            if (t instanceof DenseWeight d) d.tensor().toByteArray();
        }
    }

    /**
     * Corrupts {@code valid} many ways — every truncation length up to {@code maxTruncations} evenly spread, and
     * {@code flips} random runs of overwritten bytes — and requires each read to succeed or fail with a
     * Bad/Unsupported exception naming the file; anything else (IndexOutOfBounds, OOM, NegativeArraySize,
     * StackOverflow, ...) fails the test. Returns how many corrupt variants were rejected.
     */
    public static int fuzz(Path valid, Path work, CheckpointReader reader, int maxTruncations, int flips, long seed) throws IOException {
        byte[] bytes = Files.readAllBytes(valid);
        String name = valid.getFileName().toString();
        Path f = work.resolve("fuzz-" + name);
        int rejected = 0;
        int step = Math.max(1, bytes.length / maxTruncations);
        for (int len = 0; len < bytes.length; len += step) {
            Files.write(f, Arrays.copyOf(bytes, len));
            rejected += readOrReject(reader, f, "truncated to " + len);
        }
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < flips; i++) {
            byte[] c = bytes.clone();
            int at = r.nextInt(c.length), run = 1 + r.nextInt(8);
            for (int j = at; j < Math.min(c.length, at + run); j++) {
                c[j] = switch (r.nextInt(4)) {
                    case 0 -> (byte) 0xFF;
                    case 1 -> 0;
                    case 2 -> (byte) (c[j] ^ (1 << r.nextInt(8)));
                    default -> (byte) r.nextInt(256);
                };
            }
            Files.write(f, c);
            rejected += readOrReject(reader, f, "bytes " + at + ".." + (at + run) + " overwritten");
        }
        return rejected;
    }

    private static int readOrReject(CheckpointReader reader, Path f, String what) {
        try {
            touchAll(reader.read(f, Progress.NONE));
            return 0;
        } catch (BadInputException | UnsupportedModelException e) {
            if (!e.getMessage().contains(f.getFileName().toString()) || e.getMessage().contains("\n")) {
                fail(what + ": message does not name the file on one line: " + e.getMessage());
            }
            return 1;
        } catch (Throwable t) {
            throw new AssertionError(what + ": escaped as " + t, t);
        }
    }
}
