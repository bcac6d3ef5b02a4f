package dev.tamp.cli;

import static org.junit.jupiter.api.Assertions.*;

import dev.tamp.cli.bench.LlamaCheckpointGenerator;
import dev.tamp.core.encoding.MxFormat;
import dev.tamp.core.ir.Model;
import dev.tamp.core.progress.Progress;
import dev.tamp.formats.ModelLoader;
import dev.tamp.formats.TpkModelWriter;
import dev.tamp.formats.WeightReader;
import dev.tamp.formats.codec.ScaleRule;
import dev.tamp.quantizers.LinearWeightRewriter;
import dev.tamp.quantizers.QuantReport;
import dev.tamp.quantizers.mx.MxOptions;
import dev.tamp.quantizers.mx.MxQuantizer;
import dev.tamp.quantizers.rtn.RtnOptions;
import dev.tamp.quantizers.rtn.RtnQuantizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The streamed conversions (read a weight, quantize it, spill it, drop it) write exactly the bytes of the
 * in-memory path: on a safetensors Llama checkpoint read with positional reads, and on MiniLM (ONNX).
 */
class StreamedConversionTest {
    @TempDir Path tmp;

    private void assertSameBytes(Path source, boolean mx) throws Exception {
        Model m = ModelLoader.load(source, Progress.NONE);
        Path eager = tmp.resolve("eager.tpk"), streamed = tmp.resolve("streamed.tpk");
        QuantReport r;
        LinearWeightRewriter.Streamed s;
        if (mx) {
            MxOptions o = new MxOptions(MxFormat.MXFP4_E2M1, 32, ScaleRule.FLOOR, List.of());
            r = MxQuantizer.quantize(m, o, Progress.NONE);
            s = MxQuantizer.stream(m, o, Progress.NONE, WeightReader.of(m, source));
        } else {
            RtnOptions o = new RtnOptions(4, false, 32, List.of());
            r = RtnQuantizer.quantize(m, o, Progress.NONE);
            s = RtnQuantizer.stream(m, o, Progress.NONE, WeightReader.of(m, source));
        }
        TpkModelWriter.write(r.model(), eager);
        TpkModelWriter.writeStreaming(m, s.weights(), streamed);
        assertTrue(r.rows().equals(s.report().rows()), "same per-layer report, same order");
        assertTrue(r.rows().size() > 0);
        assertArrayEquals(Files.readAllBytes(eager), Files.readAllBytes(streamed), "identical pack bytes");
        try (var left = Files.list(tmp)) {
            assertEquals(0, left.filter(p -> p.getFileName().toString().endsWith(".tmp")).count(), "spill file removed");
        }
    }

    @Test
    void safetensorsLlamaStreamsToTheSameBytes() throws Exception {
        Path dir = tmp.resolve("llama");
        LlamaCheckpointGenerator.write(dir, new LlamaCheckpointGenerator.Shape(64, 160, 2, 4, 2, 96), 7);
        assertSameBytes(dir, false);
        assertSameBytes(dir, true);
    }

    @Test
    void miniLmStreamsToTheSameBytes() throws Exception {
        assertSameBytes(ModelLoader.resolve("minilm"), false);
    }
}
