package dev.tamp.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every command that writes a file, run twice with the same inputs and options, writes the same bytes
 * (no clock, no paths, no thread-count or JIT dependence). Runs on the bundled stories260K so it stays quick.
 */
class DeterminismTest {
    @TempDir Path tmp;

    private Path twice(String name, String... args) throws Exception {
        Path a = tmp.resolve(name + "-a"), b = tmp.resolve(name + "-b");
        for (Path out : List.of(a, b)) {
            List<String> full = new ArrayList<>(Arrays.asList(args));
            full.add("-o");
            full.add(out.toString());
            CliTest.Run r = CliTest.tamp(full.toArray(String[]::new));
            assertEquals(0, r.code(), name + ": " + r.err());
        }
        assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b), name + ": two runs, different bytes");
        return a;
    }

    @Test
    void everyWritingCommandIsByteReproducible() throws Exception {
        String m = "stories260k";
        twice("convert", "convert", m);
        Path stats = twice("calibrate", "calibrate", m, "--samples", "8", "--seq-len", "32");
        Path w4 = twice("rtn", "quantize", m, "--method", "rtn", "--bits", "4", "--group", "32");
        twice("pack", "pack", w4.toString(), "--device", "neon");
        twice("export-gguf", "export", w4.toString(), "--to", "gguf");
        twice("smoothquant", "quantize", m, "--method", "smoothquant", "--stats", stats.toString());
        twice("awq", "quantize", m, "--method", "awq", "--group", "32", "--samples", "8", "--seq-len", "32");
        Path anchor = twice("mx", "mx", m, "--format", "mxint8");
        twice("mx-slice", "mx-slice", anchor.toString(), "--to", "mxint4");
        twice("prune", "prune", m, "--method", "sparsegpt", "--samples", "8", "--seq-len", "32");
        twice("compot", "compot", m, "--ratio", "0.6", "--stats", stats.toString());
    }
}
