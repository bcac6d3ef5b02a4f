package dev.tamp.pruning;

import dev.tamp.quantizers.LayerOutputError;
import static org.junit.jupiter.api.Assertions.*;

import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.encoding.EncodedTensor;
import dev.tamp.core.encoding.Sparse24Weight;
import dev.tamp.core.ir.Model;
import dev.tamp.core.progress.Progress;
import dev.tamp.formats.ModelLoader;
import dev.tamp.formats.TestModels;
import dev.tamp.formats.codec.Sparse24Codec;
import dev.tamp.quantizers.LinearWeightRewriter;
import dev.tamp.quantizers.LinearWeights;
import dev.tamp.runtime.calib.CalibrationSource;
import dev.tamp.runtime.calib.CalibrationStats;
import dev.tamp.runtime.calib.ChannelStats;
import dev.tamp.runtime.calib.LinearLayers;
import dev.tamp.runtime.data.CalibrationSampler;
import dev.tamp.runtime.data.TextCorpus;
import dev.tamp.runtime.eval.EmbeddingMetrics;
import dev.tamp.runtime.exec.ExecutionListener;
import dev.tamp.runtime.exec.JavaBackend;
import dev.tamp.runtime.pipeline.Embedder;
import dev.tamp.runtime.pipeline.Pooling;
import dev.tamp.runtime.tokenizer.Tokenizer;
import dev.tamp.runtime.tokenizer.Tokenizers;
import java.io.InputStream;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * 2:4 pruning of the real MiniLM: the pattern, the ordering of the three methods, and that the pruned model runs.
 * About a minute on 2 cores (36 SparseGPT layers, seven calibration passes), hence slow.
 */
@Tag("slow")
class PrunerTest {
    static Model fp32;
    static Tokenizer tok;
    static List<String> calib;
    static CalibrationSource source;

    @BeforeAll
    static void setUp() throws Exception {
        byte[] tj;
        try (InputStream in = PrunerTest.class.getResourceAsStream("/all-minilm-l6-v2-tokenizer.json")) {
            tj = in.readAllBytes();
        }
        fp32 = ModelLoader.load(TestModels.miniLm(), Progress.NONE).withTokenizer(tj);
        tok = Tokenizers.fromJson(tj);
        calib = CalibrationSampler.sample(TextCorpus.bundled(TextCorpus.Split.CALIBRATION), CalibrationSampler.Mode.SENTENCE, 32, 0, 0);
        source = CalibrationSource.sentences(new JavaBackend(), tok, calib, 128, 16);
    }

    static int[] countPerGroup(float[] dense, int n, int k) {
        int[] hist = new int[5];
        for (int r = 0; r < n; r++) {
            for (int g = 0; g < k; g += 4) {
                int nz = 0;
                for (int i = 0; i < 4; i++) if (dense[r * k + g + i] != 0) nz++;
                hist[nz]++;
            }
        }
        return hist;
    }

    @Test
    void sparseGptBeatsWandaBeatsMagnitudeOnMostLayers() {
        List<String> ignore = new java.util.ArrayList<>(PruneOptions.DEFAULT_IGNORE);
        Set<String> selected = new HashSet<>();
        for (LinearWeights.Target t : LinearWeights.select(fp32, ignore)) selected.add(t.weight());
        CalibrationStats st = source.collect(fp32, l -> selected.contains(l.weight()), true, 0, Progress.NONE);
        int layers = 0, sgLeWanda = 0, wandaLeMag = 0, sgLeMag = 0;
        double[] sum = new double[3];
        Set<String> seen = new HashSet<>();
        for (LinearLayers.Linear l : LinearLayers.of(fp32)) {
            if (!selected.contains(l.weight()) || !seen.add(l.weight())) continue;
            int n = l.outFeatures(), k = l.inFeatures();
            float[] w = LinearWeightRewriter.rowsOf((DenseWeight) fp32.weights().get(l.weight()), l.kAxis());
            ChannelStats cs = st.byInput().get(l.input());
            double[] e = new double[3];
            PruneMethod[] methods = {PruneMethod.MAGNITUDE, PruneMethod.WANDA, PruneMethod.SPARSEGPT};
            for (int i = 0; i < 3; i++) {
                LayerPruner.Pruned p = LayerPruner.prune(w, n, k, cs, PruneOptions.defaults(methods[i]));
                int[] hist = countPerGroup(p.weights(), n, k);
                assertEquals(0, hist[3] + hist[4], methods[i] + " " + l.name() + " keeps more than 2 of 4");
                for (int g = 0; g < p.keep().length; g += 4) assertEquals(2, SparseGptTest.keptIn(p.keep(), g, 4), l.name());
                e[i] = LayerOutputError.relative(w, p.weights(), n, k, cs.gram);
                sum[i] += e[i];
            }
            layers++;
            if (e[2] <= e[1]) sgLeWanda++;
            if (e[1] <= e[0]) wandaLeMag++;
            if (e[2] <= e[0]) sgLeMag++;
        }
        System.err.printf("MiniLM 2:4 layer output error on calibration inputs, %d layers: SparseGPT ≤ Wanda on %d, Wanda ≤ magnitude on %d, "
                + "SparseGPT ≤ magnitude on %d; mean error magnitude %.4f, Wanda %.4f, SparseGPT %.4f%n",
                layers, sgLeWanda, wandaLeMag, sgLeMag, sum[0] / layers, sum[1] / layers, sum[2] / layers);
        assertEquals(36, layers, "6 blocks × 6 linears, pooler ignored");
        // algorithms.md §4.5 targets the order in ≥ 90% of layers (measured: all 36 of 36 for both)
        assertTrue(sgLeWanda >= 0.9 * layers, "SparseGPT ≤ Wanda on only " + sgLeWanda + " of " + layers);
        assertTrue(wandaLeMag >= 0.9 * layers, "Wanda ≤ magnitude on only " + wandaLeMag + " of " + layers);
    }

    @Test
    void prunedMiniLmIs24EverywhereAndStillEmbeds() {
        PruneReport r = Pruner.prune(fp32, source, PruneOptions.defaults(PruneMethod.SPARSEGPT), Progress.NONE);
        assertEquals(36, r.rows().size());
        for (PruneReport.Row row : r.rows()) {
            EncodedTensor e = r.model().weights().get(row.weight());
            Sparse24Weight s = assertInstanceOf(Sparse24Weight.class, e, row.layer());
            int n = (int) s.rows(), k = (int) s.cols();
            int[] hist = countPerGroup(Sparse24Codec.decode(s), n, k);
            assertEquals(0, hist[3] + hist[4], row.layer());
            assertEquals("2:4(float32)", row.encoding());
            assertTrue(row.outputError() > 0 && row.outputError() < 1, row.layer() + " output error " + row.outputError());
            assertTrue(row.bytesAfter() < 0.6 * row.bytesBefore(), row.layer() + " " + row.bytesAfter() + " of " + row.bytesBefore());
        }
        assertInstanceOf(DenseWeight.class, r.model().weights().get(
                LinearLayers.of(fp32).stream().filter(l -> l.name().contains("pooler")).findFirst().orElseThrow().weight()), "pooler left dense");
        List<String> held = CalibrationSampler.sample(TextCorpus.bundled(TextCorpus.Split.HELD_OUT), CalibrationSampler.Mode.SENTENCE, 32, 9, 0);
        float[][] ref = embed(fp32, held);
        EmbeddingMetrics.CosineStats c = EmbeddingMetrics.cosineStats(embed(r.model(), held), ref);
        System.err.printf("MiniLM 2:4 SparseGPT (32 calibration sentences): cosine to FP32 on 32 held-out sentences mean %.4f, min %.4f%n",
                c.mean(), c.min());
        assertTrue(c.mean() > 0.75 && c.mean() < 0.9999, "mean cosine " + c.mean() + " (measured 0.830)");
        PruneReport q = Pruner.prune(fp32, source, new PruneOptions(PruneMethod.MAGNITUDE, NmPattern.TWO_FOUR, 0.01, 128, 8, 0,
                PruneOptions.Propagation.FP, List.of("*layer.5*")), Progress.NONE);
        assertEquals(30, q.rows().size(), "--ignore drops block 5's six linears");
        for (PruneReport.Row row : q.rows()) assertEquals("2:4(int8-sym-ch)", row.encoding());
    }

    static float[][] embed(Model m, List<String> texts) {
        try (Embedder e = new Embedder(m, new JavaBackend(), tok, Pooling.MEAN, 0)) {
            return e.embed(texts, 16, ExecutionListener.NONE);
        }
    }
}
