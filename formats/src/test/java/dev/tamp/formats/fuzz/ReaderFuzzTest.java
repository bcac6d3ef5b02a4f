package dev.tamp.formats.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.tamp.formats.TpkModelReader;
import dev.tamp.formats.gguf.GgufReader;
import dev.tamp.formats.io.CheckpointReader;
import dev.tamp.formats.llama2c.Llama2cReader;
import dev.tamp.formats.onnx.OnnxReader;
import dev.tamp.formats.pytorch.PyTorchReader;
import dev.tamp.formats.safetensors.SafetensorsReader;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seeded mutation fuzzing of every checkpoint reader (see {@link FuzzHarness} for the property). The default
 * suite runs {@value #DEFAULT_CASES} cases per reader (override with {@code -Dtamp.fuzz.cases=N}); the slow
 * variant runs {@value #SLOW_FACTOR}x as many with other seeds. A summary per reader goes to stdout.
 */
class ReaderFuzzTest {
    static final int DEFAULT_CASES = 600;
    static final int SLOW_FACTOR = 20;

    @TempDir Path tmp;

    static int cases() {
        return Integer.getInteger("tamp.fuzz.cases", DEFAULT_CASES);
    }

    private void fuzz(String label, CheckpointReader reader, Supplier<List<FuzzSeed>> seeds, int cases, long seed) {
        List<FuzzSeed> s = seeds.get();
        // every seed must itself be valid, or the mutants test nothing
        FuzzHarness.Stats valid = FuzzHarness.run(label + "-seeds", reader, s, 0, seed, tmp);
        assertEquals(0, valid.failed());
        for (FuzzSeed one : s) ValidSeeds.assertReads(reader, one, tmp);
        FuzzHarness.Stats st = FuzzHarness.run(label, reader, s, cases, seed, tmp);
        System.out.println(st.summary());
        assertTrue(st.failed() == 0, st.summary() + st.failureReport(3));
        assertTrue(st.bad + st.unsupported > cases / 4, "mutations mostly detected: " + st.summary());
    }

    @Test void onnx() { fuzz("onnx", new OnnxReader(), OnnxSeeds::seeds, cases(), 101); }
    @Test void safetensors() { fuzz("safetensors", new SafetensorsReader(), SafetensorsSeeds::seeds, cases(), 102); }
    @Test void gguf() { fuzz("gguf", new GgufReader(), GgufSeeds::seeds, cases(), 103); }
    @Test void llama2c() { fuzz("llama2c", new Llama2cReader(), Llama2cSeeds::seeds, cases(), 104); }
    @Test void pytorch() { fuzz("pytorch", new PyTorchReader(), PyTorchSeeds::seeds, cases(), 105); }
    @Test void tpk() { fuzz("tpk", new TpkModelReader(), TpkSeeds::seeds, cases(), 106); }

    @Test @Tag("slow") void everyReaderLonger() {
        int n = cases() * SLOW_FACTOR;
        fuzz("onnx", new OnnxReader(), OnnxSeeds::seeds, n, 201);
        fuzz("safetensors", new SafetensorsReader(), SafetensorsSeeds::seeds, n, 202);
        fuzz("gguf", new GgufReader(), GgufSeeds::seeds, n, 203);
        fuzz("llama2c", new Llama2cReader(), Llama2cSeeds::seeds, n, 204);
        fuzz("pytorch", new PyTorchReader(), PyTorchSeeds::seeds, n, 205);
        fuzz("tpk", new TpkModelReader(), TpkSeeds::seeds, n, 206);
    }
}
