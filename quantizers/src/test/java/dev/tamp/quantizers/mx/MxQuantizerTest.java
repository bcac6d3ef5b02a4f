package dev.tamp.quantizers.mx;

import static org.junit.jupiter.api.Assertions.*;

import dev.tamp.core.encoding.MxFormat;
import dev.tamp.quantizers.QuantReport;
import dev.tamp.core.encoding.MxWeight;
import dev.tamp.core.ir.Model;
import dev.tamp.core.progress.Progress;
import dev.tamp.formats.ModelLoader;
import dev.tamp.formats.codec.ScaleRule;
import dev.tamp.runtime.data.CalibrationSampler;
import dev.tamp.runtime.data.TextCorpus;
import dev.tamp.runtime.eval.EmbeddingMetrics;
import dev.tamp.runtime.exec.ExecutionListener;
import dev.tamp.runtime.exec.JavaBackend;
import dev.tamp.runtime.pipeline.Embedder;
import dev.tamp.runtime.pipeline.Pooling;
import dev.tamp.runtime.tokenizer.Tokenizers;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** MX quantization of the real MiniLM: weight errors ordered by precision, end-to-end embeddings, slicing. */
class MxQuantizerTest {
    static Model miniLm;

    @BeforeAll
    static void load() throws Exception {
        Path dir = Files.createTempDirectory("mxq");
        Path f = dir.resolve("all-minilm-l6-v2.onnx");
        try (InputStream in = MxQuantizerTest.class.getResourceAsStream("/all-minilm-l6-v2.onnx")) {
            Files.copy(in, f);
        }
        try (InputStream in = MxQuantizerTest.class.getResourceAsStream("/all-minilm-l6-v2-tokenizer.json")) {
            Files.copy(in, dir.resolve("tokenizer.json"));
        }
        miniLm = ModelLoader.load(f, Progress.NONE);
    }

    static double meanError(QuantReport r) {
        return r.rows().stream().mapToDouble(QuantReport.Row::relativeWeightError).average().orElseThrow();
    }

    @Test
    void weightErrorFollowsElementPrecision() {
        Map<MxFormat, Double> err = new EnumMap<>(MxFormat.class);
        for (MxFormat f : MxFormat.values()) {
            QuantReport r = MxQuantizer.quantize(miniLm, new MxOptions(f, 32, ScaleRule.FLOOR, List.of()), Progress.NONE);
            assertEquals(37, r.rows().size(), "36 encoder linears + pooler");
            assertTrue(r.model().weights().values().stream().filter(w -> w instanceof MxWeight).count() == 37);
            err.put(f, meanError(r));
        }
        System.err.println("MiniLM mean relative weight error by format: " + err);
        // Tiers by mantissa/integer bits: 3 mantissa bits (E4M3, E2M3 — equal SQNR on Gaussian data per formats.md
        // §2.5) beat 2 (E5M2, E3M2), which beat 1 (E2M1) and MXINT4; MXINT8 (6 fraction bits) beats all.
        double three = Math.max(err.get(MxFormat.MXFP8_E4M3), err.get(MxFormat.MXFP6_E2M3));
        double two = Math.min(err.get(MxFormat.MXFP8_E5M2), err.get(MxFormat.MXFP6_E3M2));
        assertTrue(err.get(MxFormat.MXINT8) < Math.min(err.get(MxFormat.MXFP8_E4M3), err.get(MxFormat.MXFP6_E2M3)), err.toString());
        assertTrue(three < two, err.toString());
        assertTrue(Math.max(err.get(MxFormat.MXFP8_E5M2), err.get(MxFormat.MXFP6_E3M2))
                < Math.min(err.get(MxFormat.MXFP4_E2M1), err.get(MxFormat.MXINT4)), err.toString());
        assertTrue(err.get(MxFormat.MXINT8) < 0.01 && err.get(MxFormat.MXFP4_E2M1) < 0.2, err.toString());
    }

    @Test
    void quantizedModelsRunAndSlicedAnchorsStayCloseToDirect() {
        List<String> texts = CalibrationSampler.sample(TextCorpus.bundled(TextCorpus.Split.HELD_OUT), CalibrationSampler.Mode.SENTENCE, 32, 4, 0);
        float[][] ref = embed(miniLm, texts);
        Model int8 = MxQuantizer.quantize(miniLm, new MxOptions(MxFormat.MXINT8, 32, ScaleRule.FLOOR, List.of()), Progress.NONE).model();
        double c8 = EmbeddingMetrics.cosineStats(embed(int8, texts), ref).mean();
        Model direct4 = MxQuantizer.quantize(miniLm, new MxOptions(MxFormat.MXINT4, 32, ScaleRule.FLOOR, List.of()), Progress.NONE).model();
        Model sliced4 = MxSlicer.slice(int8, MxFormat.MXINT4, Progress.NONE).model();
        double cd = EmbeddingMetrics.cosineStats(embed(direct4, texts), ref).mean();
        double cs = EmbeddingMetrics.cosineStats(embed(sliced4, texts), ref).mean();
        System.err.printf("MiniLM mean cosine to FP32: MXINT8 %.5f, MXINT4 direct %.5f, MXINT4 sliced from MXINT8 %.5f%n", c8, cd, cs);
        assertTrue(c8 > 0.999, "MXINT8 " + c8);
        assertTrue(Math.abs(cd - cs) < 0.005, "sliced within 0.005 of direct: " + cd + " vs " + cs);
        assertTrue(((MxWeight) sliced4.weights().values().stream().filter(w -> w instanceof MxWeight).findFirst().orElseThrow()).anchor() == MxFormat.MXINT8);
    }

    static float[][] embed(Model m, List<String> texts) {
        try (Embedder e = new Embedder(m, new JavaBackend(), Tokenizers.fromJson(m.tokenizerJson()), Pooling.MEAN, 0)) {
            return e.embed(texts, 16, ExecutionListener.NONE);
        }
    }
}
