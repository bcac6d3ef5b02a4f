package dev.tamp.quantizers.awq;

import static org.junit.jupiter.api.Assertions.*;

import dev.tamp.core.encoding.DenseWeight;
import dev.tamp.core.encoding.IntGroupedWeight;
import dev.tamp.core.ir.Model;
import dev.tamp.core.progress.Progress;
import dev.tamp.formats.ModelLoader;
import dev.tamp.formats.TestModels;
import dev.tamp.quantizers.LinearWeightRewriter;
import dev.tamp.quantizers.rtn.RtnOptions;
import dev.tamp.quantizers.rtn.RtnQuantizer;
import dev.tamp.runtime.calib.CalibrationSource;
import dev.tamp.runtime.calib.CalibrationStats;
import dev.tamp.runtime.calib.Calibrator;
import dev.tamp.runtime.calib.ChannelStats;
import dev.tamp.runtime.calib.LinearLayers;
import dev.tamp.runtime.calib.ValueCapture;
import dev.tamp.runtime.data.CalibrationSampler;
import dev.tamp.runtime.data.TextCorpus;
import dev.tamp.runtime.eval.EmbeddingMetrics;
import dev.tamp.runtime.exec.ExecutionListener;
import dev.tamp.runtime.exec.JavaBackend;
import dev.tamp.runtime.exec.Session;
import dev.tamp.runtime.linalg.QuadraticForm;
import dev.tamp.runtime.pipeline.Embedder;
import dev.tamp.runtime.pipeline.Pooling;
import dev.tamp.runtime.tokenizer.Encoding;
import dev.tamp.runtime.tokenizer.Tokenizer;
import dev.tamp.runtime.tokenizer.Tokenizers;
import dev.tamp.runtime.value.Value;
import java.io.InputStream;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** AWQ on the real MiniLM: its objective, its invariants, and that it beats RTN at the same group size. */
class AwqTest {
    static Model fp32;
    static Tokenizer tok;
    static List<String> calib;
    static CalibrationSource source;

    @BeforeAll
    static void setUp() throws Exception {
        byte[] tj;
        try (InputStream in = AwqTest.class.getResourceAsStream("/all-minilm-l6-v2-tokenizer.json")) {
            tj = in.readAllBytes();
        }
        fp32 = ModelLoader.load(TestModels.miniLm(), Progress.NONE).withTokenizer(tj);
        tok = Tokenizers.fromJson(tj);
        calib = CalibrationSampler.sample(TextCorpus.bundled(TextCorpus.Split.CALIBRATION), CalibrationSampler.Mode.SENTENCE, 32, 0, 0);
        source = CalibrationSource.sentences(new JavaBackend(), tok, calib, 128, 16);
    }

    static LinearLayers.Linear layer(String nodeName) {
        return LinearLayers.of(fp32).stream().filter(l -> l.name().equals(nodeName)).findFirst().orElseThrow();
    }

    @Test
    void gramLossEqualsTheOutputErrorMeasuredOnTheTokens() {
        LinearLayers.Linear l = layer("/encoder/layer.1/intermediate/dense/MatMul");
        List<String> few = calib.subList(0, 6);
        // batch size 1: no padding, so the Gram matrix and the captured activations hold the same tokens
        CalibrationStats st = Calibrator.encoder(fp32, new JavaBackend(), tok, few, 128, 1, x -> x == l || x.input().equals(l.input()), true, Progress.NONE);
        ChannelStats cs = st.byInput().get(l.input());
        int k = cs.k, n = l.outFeatures();
        float[] w = LinearWeightRewriter.rowsOf((DenseWeight) fp32.weights().get(l.weight()), l.kAxis());
        float[] s = ScaleSearch.scales(cs.meanAbs(), 0.5);
        float[] delta = ScaleSearch.error(new ScaleSearch.Member(w, n), k, s, 4, false, 128);
        double viaGram;
        try (QuadraticForm f = QuadraticForm.of(cs.gram, k, null)) {
            viaGram = f.sum(delta, n);
        }
        double direct = 0;
        long tokens = 0;
        try (Session session = new JavaBackend().open(fp32)) {
            for (String text : few) {
                Encoding e = tok.encodeBatch(List.of(text), 128).get(0);
                int len = e.length();
                ValueCapture cap = new ValueCapture(Set.of(l.input()), Integer.MAX_VALUE);
                session.run(Map.of("input_ids", Value.longs(longs(e.ids()), 1, len), "attention_mask", Value.longs(longs(e.attentionMask()), 1, len),
                        "token_type_ids", Value.longs(longs(e.typeIds()), 1, len)), List.of(), cap);
                float[] x = cap.values().get(l.input()).get(0).floats;
                for (int t = 0; t < len; t++) {
                    tokens++;
                    for (int o = 0; o < n; o++) {
                        double y = 0;
                        for (int j = 0; j < k; j++) y += (double) x[t * k + j] * delta[o * k + j];
                        direct += y * y;
                    }
                }
            }
        }
        assertEquals(tokens, cs.rows);
        System.err.printf("AWQ output error via XᵀX %.6e, on %d tokens %.6e%n", viaGram, tokens, direct);
        assertEquals(direct, viaGram, 1e-4 * direct);
    }

    @Test
    void candidateScalesAreNormalisedAndFinite() {
        float[] mu = new float[64];
        for (int j = 0; j < mu.length; j++) mu[j] = (float) (0.01 + j * 0.3);
        mu[7] = 0; // a dead channel
        for (int i = 0; i < 20; i++) {
            float[] s = ScaleSearch.scales(mu, i / 20.0);
            float lo = Float.MAX_VALUE, hi = 0;
            for (float v : s) {
                assertTrue(Float.isFinite(v) && v > 0);
                lo = Math.min(lo, v);
                hi = Math.max(hi, v);
            }
            assertEquals(1.0, (double) lo * hi, 1e-6, "max·min at r=" + i / 20.0);
            if (i == 0) assertEquals(1f, hi);
        }
    }

    @Test
    void clippingNeverIncreasesAGroupsError() {
        LinearLayers.Linear l = layer("/encoder/layer.2/output/dense/MatMul");
        CalibrationStats st = source.collect(fp32, x -> x.input().equals(l.input()), true, 0, Progress.NONE);
        ChannelStats cs = st.byInput().get(l.input());
        float[] w = LinearWeightRewriter.rowsOf((DenseWeight) fp32.weights().get(l.weight()), l.kAxis());
        ClipSearch.Result r = ClipSearch.search(w, l.outFeatures(), cs.k, cs.gram, null, 4, false, 128, 20);
        System.err.printf("AWQ clip on %s: group error %.4e → %.4e, mean shrink %.3f%n", l.name(), r.errorBefore(), r.errorAfter(), r.meanShrink());
        assertTrue(r.errorAfter() <= r.errorBefore());
        assertTrue(r.errorAfter() < 0.99 * r.errorBefore(), "clipping should pay off on a real layer");
        for (int i = 0; i < w.length; i++) assertTrue(Math.abs(r.clipped()[i]) <= Math.abs(w[i]));
    }

    @Test
    void awqNeverLosesToRtnOnItsObjectiveAndBeatsItOnHeldOutSentences() {
        AwqQuantizer.Result awq = AwqQuantizer.quantize(fp32, source, AwqOptions.defaults(), Progress.NONE);
        int strictly = 0;
        for (AwqQuantizer.Mapping m : awq.mappings()) {
            assertTrue(m.awqLoss() <= m.rtnLoss(), m.input() + ": " + m.awqLoss() + " > " + m.rtnLoss());
            if (m.awqLoss() < m.rtnLoss()) strictly++;
        }
        assertEquals(25, awq.mappings().size(), "q/k/v share a group: 4 per layer + the pooler");
        assertTrue(strictly >= 20, "scale search improved only " + strictly + " of 25 groups");
        assertEquals(37, awq.report().rows().size());
        for (var row : awq.report().rows()) {
            IntGroupedWeight q = (IntGroupedWeight) awq.report().model().weights().get(row.weight());
            assertEquals(4, q.bits());
            assertEquals(128, q.groupSize());
            assertFalse(q.symmetric());
        }
        Model rtn = RtnQuantizer.quantize(fp32, new RtnOptions(4, false, 128, List.of()), Progress.NONE).model();
        List<String> held = CalibrationSampler.sample(TextCorpus.bundled(TextCorpus.Split.HELD_OUT), CalibrationSampler.Mode.SENTENCE, 48, 9, 0);
        float[][] ref = embed(fp32, held);
        double cRtn = EmbeddingMetrics.cosineStats(embed(rtn, held), ref).mean();
        double cAwq = EmbeddingMetrics.cosineStats(embed(awq.report().model(), held), ref).mean();
        System.err.printf("MiniLM W4 g128 mean cosine to FP32 on 48 held-out sentences: RTN %.5f, AWQ %.5f%n", cRtn, cAwq);
        assertTrue(cAwq > cRtn + 0.005, "AWQ " + cAwq + " vs RTN " + cRtn);
    }

    static long[] longs(int[] a) {
        long[] o = new long[a.length];
        for (int i = 0; i < a.length; i++) o[i] = a[i];
        return o;
    }

    static float[][] embed(Model m, List<String> texts) {
        try (Embedder e = new Embedder(m, new JavaBackend(), tok, Pooling.MEAN, 0)) {
            return e.embed(texts, 16, ExecutionListener.NONE);
        }
    }
}
