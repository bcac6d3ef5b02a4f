package dev.tamp.cli;

import static dev.tamp.cli.CliTest.tamp;
import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import dev.tamp.core.json.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** tamp distill end to end: an MF-QAT anchor that mx-slice accepts, identical bytes on a rerun, bad flags exit 2. */
class DistillCliTest {
    @TempDir Path tmp;

    @Test
    void mfQatAnchorIsReproducibleAndSlices() throws Exception {
        Path a = tmp.resolve("a.tpk"), b = tmp.resolve("b.tpk");
        String[] args = {"distill", "--teacher", "minilm", "--student", "minilm", "--mx-formats", "mxint8,mxfp4", "--anchor", "mxint8",
            "--steps", "2", "--batch", "2", "--seq", "16", "--json", "-o"};
        CliTest.Run r = tamp(concat(args, a.toString()));
        assertEquals(0, r.code(), r.err());
        JsonNode j = Json.parse(r.out());
        assertEquals(2, j.get("steps").asInt());
        assertTrue(j.get("trained_weights").asInt() >= 36, r.out());
        assertEquals(2, j.get("loss").size());
        assertTrue(j.get("first_loss").asDouble() > 0, r.out());
        CliTest.Run again = tamp(concat(args, b.toString()));
        assertEquals(0, again.code(), again.err());
        assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b), "identical inputs give identical bytes");
        CliTest.Run s = tamp("mx-slice", a.toString(), "--to", "mxfp4", "-o", tmp.resolve("s.tpk").toString());
        assertEquals(0, s.code(), s.err());
    }

    @Test
    void badFlagsExitTwoBeforeWriting() {
        Path out = tmp.resolve("bad.tpk");
        for (String[] bad : new String[][] {{"--student-layers", "0,9"}, {"--anchor", "mxfp4"}, {"--loss", "kl"}, {"--loss", "hinge"},
                {"--mx-formats", "mxfp3"}, {"--steps", "0"}, {"--resume", tmp.resolve("nowhere").toString()}}) {
            CliTest.Run r = tamp(concat(new String[] {"distill", "--teacher", "minilm", "--student", "minilm", "-o", out.toString()}, bad));
            assertEquals(2, r.code(), String.join(" ", bad) + ": " + r.err());
            assertEquals(1, r.err().strip().lines().count(), "one-line error: " + r.err());
            assertFalse(Files.exists(out));
        }
    }

    private static String[] concat(String[] a, String... b) {
        String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
