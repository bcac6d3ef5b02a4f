package dev.tamp.pruning;

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
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Block-sequential pruning writes the same bytes as the whole-model reference path. */
class PrunerSequentialTest {
    @TempDir Path tmp;

    @Test
    void sparseGptOnStories260kSequentialEqualsWholeModel() throws Exception {
        Model fp32 = ArchitectureBuilders.ensureGraph(ModelLoader.load(TestModels.stories(), Progress.NONE));
        long[][] calib;
        try (Generator g = new Generator(fp32, new JavaBackend())) {
            calib = DecoderEvaluation.sample(g, 8, 32, 1);
        }
        assertSameBytes(fp32, CalibrationSource.sequences(new JavaBackend(), calib), PruneOptions.defaults(PruneMethod.SPARSEGPT));
    }

    @Test
    void wandaOnMiniLmSequentialEqualsWholeModel() throws Exception {
        byte[] tj;
        try (InputStream in = getClass().getResourceAsStream("/all-minilm-l6-v2-tokenizer.json")) {
            tj = in.readAllBytes();
        }
        Model fp32 = ModelLoader.load(TestModels.miniLm(), Progress.NONE).withTokenizer(tj);
        CalibrationSource source = CalibrationSource.sentences(new JavaBackend(), Tokenizers.fromJson(tj),
                CalibrationSampler.sample(TextCorpus.bundled(TextCorpus.Split.CALIBRATION), CalibrationSampler.Mode.SENTENCE, 12, 0, 0), 48, 4);
        assertSameBytes(fp32, source, PruneOptions.defaults(PruneMethod.WANDA));
    }

    private void assertSameBytes(Model fp32, CalibrationSource source, PruneOptions o) throws Exception {
        Model seq = Pruner.prune(fp32, source, o, BlockwiseCalibration.Mode.SEQUENTIAL, Progress.NONE).model();
        Model whole = Pruner.prune(fp32, source, o, BlockwiseCalibration.Mode.WHOLE_MODEL, Progress.NONE).model();
        Path a = tmp.resolve("seq.tpk"), b = tmp.resolve("whole.tpk");
        TpkWriter.write(a, new TpkContents(seq.weights(), Map.of(), Json.object()));
        TpkWriter.write(b, new TpkContents(whole.weights(), Map.of(), Json.object()));
        assertEquals(-1L, Files.mismatch(a, b), "sequential and whole-model pruning write the same weights");
    }
}
