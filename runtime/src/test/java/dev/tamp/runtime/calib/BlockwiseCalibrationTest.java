package dev.tamp.runtime.calib;

import static org.junit.jupiter.api.Assertions.*;

import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.ir.Model;
import dev.tamp.core.progress.Progress;
import dev.tamp.core.tensor.Tensor;
import dev.tamp.runtime.RuntimeTestModels;
import dev.tamp.runtime.arch.ArchitectureBuilders;
import dev.tamp.runtime.data.CalibrationSampler;
import dev.tamp.runtime.data.TextCorpus;
import dev.tamp.runtime.eval.DecoderEvaluation;
import dev.tamp.runtime.exec.JavaBackend;
import dev.tamp.runtime.pipeline.Generator;
import dev.tamp.runtime.tokenizer.Tokenizers;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The block-sequential pass must hand every block exactly the statistics the whole-model reference pass does —
 * bit for bit, with float and with compressed propagation — on a real encoder (MiniLM, ONNX) and a real decoder
 * (stories260K, built graph).
 */
class BlockwiseCalibrationTest {
    @Test
    void miniLmSequentialStatisticsEqualWholeModel() throws Exception {
        Model m = RuntimeTestModels.miniLm();
        List<String> texts = CalibrationSampler.sample(TextCorpus.bundled(TextCorpus.Split.CALIBRATION), CalibrationSampler.Mode.SENTENCE, 12, 0, 0);
        CalibrationSource src = CalibrationSource.sentences(new JavaBackend(), Tokenizers.fromJson(BlockwiseCalibrationTest.class.getResourceAsStream("/all-minilm-l6-v2-tokenizer.json").readAllBytes()), texts, 64, 5);
        BlockGraph g = BlockGraph.cut(m).orElseThrow();
        assertEquals(8, g.segments().size(), "prefix, 6 encoder layers, suffix (pooler)");
        compare(m, src);
    }

    @Test
    void stories260kSequentialStatisticsEqualWholeModel() {
        Model m = ArchitectureBuilders.ensureGraph(RuntimeTestModels.stories());
        long[][] seqs;
        try (Generator gen = new Generator(m, new JavaBackend())) {
            seqs = DecoderEvaluation.sample(gen, 4, 24, 3);
        }
        BlockGraph g = BlockGraph.cut(m).orElseThrow();
        assertEquals(List.of(BlockGraph.PREFIX, 0, 1, 2, 3, 4, BlockGraph.SUFFIX), g.segments().stream().map(BlockGraph.Segment::block).toList());
        for (BlockGraph.Segment s : g.segments().subList(1, 6)) {
            assertEquals(9, s.model().weights().keySet().stream().filter(w -> w.startsWith("model.layers.")).count(),
                    "a block segment holds its own 7 linears and 2 norms only: " + s.model().weights().keySet());
        }
        compare(m, CalibrationSource.sequences(new JavaBackend(), seqs));
    }

    @Test
    void streamedStatsFileEqualsTheOneWrittenFromMemory(@TempDir Path tmp) {
        Model m = ArchitectureBuilders.ensureGraph(RuntimeTestModels.stories());
        long[][] seqs;
        try (Generator gen = new Generator(m, new JavaBackend())) {
            seqs = DecoderEvaluation.sample(gen, 3, 16, 5);
        }
        CalibrationSource src = CalibrationSource.sequences(new JavaBackend(), seqs).withInfo("seed", "5");
        Path whole = tmp.resolve("whole.stats"), streamed = tmp.resolve("streamed.stats");
        StatsFile.write(whole, src.collect(m, l -> true, true, 0, Progress.NONE));
        try (StatsFile.Streaming out = new StatsFile.Streaming(streamed)) {
            BlockwiseCalibration.collect(m, src, l -> true, true, 0, out::add, Progress.NONE);
            out.finish(src.info());
        }
        assertEquals(-1L, assertDoesNotThrow(() -> Files.mismatch(whole, streamed)), "same bytes, block by block");
        try (var files = assertDoesNotThrow(() -> Files.list(tmp))) {
            assertEquals(2, files.count(), "no scratch file left beside the output");
        }
    }

    /** Both modes, both propagations; the "compression" halves each block's weights so propagation matters. */
    private static void compare(Model m, CalibrationSource src) {
        List<LinearLayers.Linear> linears = LinearLayers.of(m);
        for (boolean compressed : new boolean[] {false, true}) {
            Map<Integer, Map<String, double[]>> seq = record(m, src, linears, compressed, BlockwiseCalibration.Mode.SEQUENTIAL);
            Map<Integer, Map<String, double[]>> whole = record(m, src, linears, compressed, BlockwiseCalibration.Mode.WHOLE_MODEL);
            assertEquals(whole.keySet(), seq.keySet());
            for (int b : whole.keySet()) {
                assertEquals(whole.get(b).keySet(), seq.get(b).keySet(), "block " + b);
                for (String in : whole.get(b).keySet()) {
                    assertArrayEquals(whole.get(b).get(in), seq.get(b).get(in), "block " + b + " input " + in + (compressed ? " (compressed)" : " (fp)"));
                }
            }
        }
        // Propagation is real: with halved weights the later blocks see other inputs than with float ones.
        Map<Integer, Map<String, double[]>> fp = record(m, src, linears, false, BlockwiseCalibration.Mode.SEQUENTIAL);
        Map<Integer, Map<String, double[]>> cq = record(m, src, linears, true, BlockwiseCalibration.Mode.SEQUENTIAL);
        int last = new TreeMap<>(fp).lastKey();
        String anyInput = fp.get(last).keySet().iterator().next();
        assertFalse(Arrays.equals(fp.get(last).get(anyInput), cq.get(last).get(anyInput)));
    }

    /** Per block, per input: Σ|x|, Σx², the Gram and the row count, as the step saw them. */
    private static Map<Integer, Map<String, double[]>> record(Model m, CalibrationSource src, List<LinearLayers.Linear> linears,
                                                              boolean compressed, BlockwiseCalibration.Mode mode) {
        Map<Integer, Map<String, double[]>> seen = new TreeMap<>();
        BlockwiseCalibration.Mode ran = BlockwiseCalibration.run(m, src, linears, true, 0, compressed, mode, (block, stats) -> {
            Map<String, double[]> row = new TreeMap<>();
            Map<String, EncodedTensor> halved = new LinkedHashMap<>();
            for (LinearLayers.Linear l : BlockwiseCalibration.byBlock(linears).get(block)) {
                ChannelStats cs = stats.byInput().get(l.input());
                double[] all = new double[2 * cs.k + cs.gram.length + 1];
                System.arraycopy(cs.sumAbs, 0, all, 0, cs.k);
                System.arraycopy(cs.sumSq, 0, all, cs.k, cs.k);
                System.arraycopy(cs.gram, 0, all, 2 * cs.k, cs.gram.length);
                all[all.length - 1] = cs.rows;
                row.put(l.input(), all);
                Tensor t = ((DenseWeight) m.weights().get(l.weight())).tensor();
                float[] v = t.toFloatArray();
                for (int i = 0; i < v.length; i++) v[i] *= 0.5f;
                halved.put(l.weight(), new DenseWeight(Tensor.ofFloats(v, t.shape())));
            }
            seen.put(block, row);
            return halved;
        }, Progress.NONE);
        assertEquals(mode, ran);
        return seen;
    }
}
