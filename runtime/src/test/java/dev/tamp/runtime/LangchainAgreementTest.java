package dev.tamp.runtime;

import static org.junit.jupiter.api.Assertions.*;

import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.embedding.onnx.allminilml6v2.AllMiniLmL6V2EmbeddingModel;
import dev.langchain4j.model.embedding.onnx.bgesmallenv15.BgeSmallEnV15EmbeddingModel;
import dev.tamp.core.ir.Model;
import dev.tamp.runtime.data.CalibrationSampler;
import dev.tamp.runtime.data.TextCorpus;
import dev.tamp.runtime.eval.EmbeddingMetrics;
import dev.tamp.runtime.exec.ExecutionListener;
import dev.tamp.runtime.exec.JavaBackend;
import dev.tamp.runtime.pipeline.Embedder;
import dev.tamp.runtime.pipeline.Pooling;
import dev.tamp.runtime.tokenizer.Tokenizers;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * End to end against langchain4j's own ONNX embedding models (ONNX Runtime + HF tokenizer + their pooling):
 * same text in, same sentence embedding out — tokenisation, truncation, pooling and normalisation included.
 */
class LangchainAgreementTest {
    static void agree(Model m, EmbeddingModel oracle, String name) {
        List<String> texts = CalibrationSampler.sample(TextCorpus.bundled(TextCorpus.Split.HELD_OUT), CalibrationSampler.Mode.SENTENCE, 64, 3, 0);
        float[][] want = new float[texts.size()][];
        for (int i = 0; i < texts.size(); i++) want[i] = oracle.embed(texts.get(i)).content().vector();
        float[][] got;
        try (Embedder e = new Embedder(m, new JavaBackend(), Tokenizers.fromJson(m.tokenizerJson()), Pooling.forModel(m), 0)) {
            got = e.embed(texts, 16, ExecutionListener.NONE);
        }
        EmbeddingMetrics.CosineStats c = EmbeddingMetrics.cosineStats(got, want);
        System.err.printf("%s vs langchain4j: mean cosine %.8f, min %.8f over %d sentences%n", name, c.mean(), c.min(), c.count());
        assertTrue(c.min() >= 0.99999, "min cosine " + c.min());
    }

    @Test
    void miniLm() {
        agree(RuntimeTestModels.miniLm().withTokenizer(resource("/all-minilm-l6-v2-tokenizer.json")), new AllMiniLmL6V2EmbeddingModel(), "MiniLM");
    }

    @Test
    void bge() {
        agree(RuntimeTestModels.bge().withTokenizer(resource("/bge-small-en-v1.5-tokenizer.json")), new BgeSmallEnV15EmbeddingModel(), "BGE");
    }

    static byte[] resource(String r) {
        try (var in = LangchainAgreementTest.class.getResourceAsStream(r)) {
            return in.readAllBytes();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
