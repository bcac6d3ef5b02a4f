package dev.tamp.quantizers.gptq;

import static org.junit.jupiter.api.Assertions.*;

import dev.tamp.core.ir.Model;
import dev.tamp.core.json.Json;
import dev.tamp.core.progress.Progress;
import dev.tamp.formats.ModelLoader;
import dev.tamp.formats.TestModels;
import dev.tamp.formats.tpk.TpkContents;
import dev.tamp.formats.tpk.TpkWriter;
import dev.tamp.quantizers.QuantReport;
import dev.tamp.quantizers.rtn.RtnOptions;
import dev.tamp.quantizers.rtn.RtnQuantizer;
import dev.tamp.runtime.arch.ArchitectureBuilders;
import dev.tamp.runtime.calib.BlockwiseCalibration;
import dev.tamp.runtime.calib.CalibrationSource;
import dev.tamp.runtime.data.CalibrationSampler;
import dev.tamp.runtime.data.TextCorpus;
import dev.tamp.runtime.eval.DecoderEvaluation;
import dev.tamp.runtime.eval.EmbeddingMetrics;
import dev.tamp.runtime.exec.ExecutionListener;
import dev.tamp.runtime.exec.JavaBackend;
import dev.tamp.runtime.pipeline.Embedder;
import dev.tamp.runtime.pipeline.Generator;
import dev.tamp.runtime.pipeline.Pooling;
import dev.tamp.runtime.tokenizer.Tokenizer;
import dev.tamp.runtime.tokenizer.Tokenizers;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** GPTQ on whole real models: it must beat RTN at the same bits and groups, and its sequential pass equal the reference. */
class GptqQuantizerTest {
    @TempDir Path tmp;

    @Test
    void beatsRtnOnStories260kAndSequentialEqualsWholeModel() throws Exception {
        Model fp32 = ArchitectureBuilders.ensureGraph(ModelLoader.load(TestModels.stories(), Progress.NONE));
        long[][] calib, eval;
        try (Generator g = new Generator(fp32, new JavaBackend())) {
            calib = DecoderEvaluation.sample(g, 32, 64, 1);
            eval = DecoderEvaluation.sample(g, 32, 64, 2);
        }
        CalibrationSource source = CalibrationSource.sequences(new JavaBackend(), calib);
        GptqOptions d = GptqOptions.defaults();
        GptqOptions o = new GptqOptions(4, 32, d.symmetric(), d.actOrder(), d.dampening(), d.blockSize(), d.propagate(), List.of());
        QuantReport seq = GptqQuantizer.quantize(fp32, source, o, BlockwiseCalibration.Mode.SEQUENTIAL, Progress.NONE);
        QuantReport whole = GptqQuantizer.quantize(fp32, source, o, BlockwiseCalibration.Mode.WHOLE_MODEL, Progress.NONE);
        assertEquals(35, seq.rows().size(), "7 linears in each of 5 blocks; the tied head is left float");
        Path a = tmp.resolve("seq.tpk"), b = tmp.resolve("whole.tpk");
        TpkWriter.write(a, new TpkContents(seq.model().weights(), Map.of(), Json.object()));
        TpkWriter.write(b, new TpkContents(whole.model().weights(), Map.of(), Json.object()));
        assertEquals(-1L, Files.mismatch(a, b), "sequential and whole-model GPTQ write the same weights");
        Model rtn = RtnQuantizer.quantize(fp32, new RtnOptions(4, o.symmetric(), 32, List.of()), Progress.NONE).model();
        double klRtn = kl(fp32, rtn, eval), klGptq = kl(fp32, seq.model(), eval);
        System.err.printf("stories260K W4 g32 KL to FP32 on 32×64 held-out sampled tokens: RTN %.4f, GPTQ %.4f%n", klRtn, klGptq);
        assertTrue(klGptq < 0.85 * klRtn, "GPTQ KL " + klGptq + " vs RTN " + klRtn);
    }

    @Test
    void beatsRtnOnMiniLm() throws Exception {
        byte[] tj;
        try (InputStream in = getClass().getResourceAsStream("/all-minilm-l6-v2-tokenizer.json")) {
            tj = in.readAllBytes();
        }
        Model fp32 = ModelLoader.load(TestModels.miniLm(), Progress.NONE).withTokenizer(tj);
        Tokenizer tok = Tokenizers.fromJson(tj);
        List<String> calib = CalibrationSampler.sample(TextCorpus.bundled(TextCorpus.Split.CALIBRATION), CalibrationSampler.Mode.SENTENCE, 48, 0, 0);
        List<String> held = CalibrationSampler.sample(TextCorpus.bundled(TextCorpus.Split.HELD_OUT), CalibrationSampler.Mode.SENTENCE, 48, 9, 0);
        GptqOptions o = GptqOptions.defaults();
        Model gptq = GptqQuantizer.quantize(fp32, CalibrationSource.sentences(new JavaBackend(), tok, calib, 64, 16), o, Progress.NONE).model();
        Model rtn = RtnQuantizer.quantize(fp32, new RtnOptions(4, o.symmetric(), 128, List.of()), Progress.NONE).model();
        float[][] ref = embed(fp32, tok, held);
        double cRtn = EmbeddingMetrics.cosineStats(embed(rtn, tok, held), ref).mean();
        double cGptq = EmbeddingMetrics.cosineStats(embed(gptq, tok, held), ref).mean();
        System.err.printf("MiniLM W4 g128 mean cosine to FP32 on 48 held-out sentences: RTN %.4f, GPTQ %.4f%n", cRtn, cGptq);
        assertTrue(1 - cGptq < 0.6 * (1 - cRtn), "GPTQ cosine " + cGptq + " vs RTN " + cRtn);
    }

    static float[][] embed(Model m, Tokenizer tok, List<String> texts) {
        try (Embedder e = new Embedder(m, new JavaBackend(), tok, Pooling.MEAN, 0)) {
            return e.embed(texts, 16, ExecutionListener.NONE);
        }
    }

    static double kl(Model ref, Model cand, long[][] seqs) {
        try (Generator a = new Generator(ref, new JavaBackend()); Generator b = new Generator(cand, new JavaBackend())) {
            return DecoderEvaluation.compare(a, b, seqs).meanKl();
        }
    }
}
