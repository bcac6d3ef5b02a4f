package dev.tamp.quantizers.awq;

import static org.junit.jupiter.api.Assertions.*;

import dev.tamp.core.ir.Model;
import dev.tamp.core.json.Json;
import dev.tamp.core.progress.Progress;
import dev.tamp.formats.ModelLoader;
import dev.tamp.formats.TestModels;
import dev.tamp.formats.tpk.TpkContents;
import dev.tamp.formats.tpk.TpkWriter;
import dev.tamp.runtime.arch.ArchitectureBuilders;
import dev.tamp.runtime.calib.BlockwiseCalibration;
import dev.tamp.runtime.calib.CalibrationSource;
import dev.tamp.runtime.data.CalibrationSampler;
import dev.tamp.runtime.data.TextCorpus;
import dev.tamp.runtime.eval.DecoderEvaluation;
import dev.tamp.runtime.exec.JavaBackend;
import dev.tamp.runtime.pipeline.Generator;
import dev.tamp.runtime.tokenizer.Tokenizers;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Block-sequential AWQ writes the same bytes as the whole-model reference path (one pass per block vs L²/2). */
class AwqSequentialTest {
    @TempDir Path tmp;

    @Test
    void stories260kSequentialEqualsWholeModel() throws Exception {
        Model fp32 = ArchitectureBuilders.ensureGraph(ModelLoader.load(TestModels.stories(), Progress.NONE));
        long[][] calib;
        try (Generator g = new Generator(fp32, new JavaBackend())) {
            calib = DecoderEvaluation.sample(g, 8, 32, 1);
        }
        CalibrationSource source = CalibrationSource.sequences(new JavaBackend(), calib);
        AwqOptions o = new AwqOptions(4, 32, false, 20, true, AwqOptions.Propagation.COMPRESSED, List.of());
        assertSameBytes(fp32, source, o);
    }

    @Test
    void miniLmSequentialEqualsWholeModel() throws Exception {
        byte[] tj;
        try (InputStream in = getClass().getResourceAsStream("/all-minilm-l6-v2-tokenizer.json")) {
            tj = in.readAllBytes();
        }
        Model fp32 = ModelLoader.load(TestModels.miniLm(), Progress.NONE).withTokenizer(tj);
        List<String> texts = CalibrationSampler.sample(TextCorpus.bundled(TextCorpus.Split.CALIBRATION), CalibrationSampler.Mode.SENTENCE, 12, 0, 0);
        CalibrationSource source = CalibrationSource.sentences(new JavaBackend(), Tokenizers.fromJson(tj), texts, 48, 4);
        // a coarse grid keeps the two runs short; the search itself is the same code at any grid
        assertSameBytes(fp32, source, new AwqOptions(4, 128, false, 4, true, AwqOptions.Propagation.COMPRESSED, List.of()));
    }

    private void assertSameBytes(Model fp32, CalibrationSource source, AwqOptions o) throws Exception {
        Model seq = AwqQuantizer.quantize(fp32, source, o, BlockwiseCalibration.Mode.SEQUENTIAL, Progress.NONE).report().model();
        Model whole = AwqQuantizer.quantize(fp32, source, o, BlockwiseCalibration.Mode.WHOLE_MODEL, Progress.NONE).report().model();
        Path a = tmp.resolve("seq.tpk"), b = tmp.resolve("whole.tpk");
        TpkWriter.write(a, new TpkContents(seq.weights(), Map.of(), Json.object()));
        TpkWriter.write(b, new TpkContents(whole.weights(), Map.of(), Json.object()));
        assertEquals(-1L, Files.mismatch(a, b), "sequential and whole-model AWQ write the same weights");
    }
}
