package dev.tamp.runtime.torch;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.engine.Engine;
import dev.tamp.core.error.UnsupportedModelException;
import dev.tamp.core.ir.Model;
import dev.tamp.runtime.RuntimeTestModels;
import dev.tamp.runtime.arch.ArchitectureBuilders;
import dev.tamp.runtime.eval.EmbeddingMetrics;
import dev.tamp.runtime.exec.ExecutionListener;
import dev.tamp.runtime.exec.JavaBackend;
import dev.tamp.runtime.pipeline.Embedder;
import dev.tamp.runtime.pipeline.Generator;
import dev.tamp.runtime.pipeline.Pooling;
import dev.tamp.runtime.tokenizer.Tokenizers;
import dev.tamp.runtime.data.CalibrationSampler;
import dev.tamp.runtime.data.TextCorpus;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The torch backend (libtorch CPU through DJL, offline) must agree with the java backend. */
class TorchBackendTest {
    static byte[] resource(String r) throws Exception {
        try (var in = TorchBackendTest.class.getResourceAsStream(r)) {
            return in.readAllBytes();
        }
    }

    @Test
    void miniLmEmbeddingsAgreeWithJavaBackend() throws Exception {
        Model m = RuntimeTestModels.miniLm().withTokenizer(resource("/all-minilm-l6-v2-tokenizer.json"));
        List<String> texts = CalibrationSampler.sample(TextCorpus.bundled(TextCorpus.Split.HELD_OUT), CalibrationSampler.Mode.SENTENCE, 64, 11, 0);
        float[][] java, torch;
        try (Embedder e = new Embedder(m, new JavaBackend(), Tokenizers.fromJson(m.tokenizerJson()), Pooling.MEAN, 0)) {
            java = e.embed(texts, 16, ExecutionListener.NONE);
        }
        try (Embedder e = new Embedder(m, new TorchBackend("cpu"), Tokenizers.fromJson(m.tokenizerJson()), Pooling.MEAN, 0)) {
            torch = e.embed(texts, 16, ExecutionListener.NONE);
        }
        EmbeddingMetrics.CosineStats c = EmbeddingMetrics.cosineStats(torch, java);
        double maxDiff = 0;
        for (int i = 0; i < java.length; i++) for (int k = 0; k < java[i].length; k++) maxDiff = Math.max(maxDiff, Math.abs(java[i][k] - torch[i][k]));
        System.err.printf("torch:cpu vs java on MiniLM: min cosine %.8f, max |Δ| %.3g (libtorch %s)%n", c.min(), maxDiff, Engine.getEngine("PyTorch").getVersion());
        assertTrue(c.min() >= 0.99999, "min cosine " + c.min());
        assertTrue(maxDiff <= 1e-4, "max |Δ| " + maxDiff);
    }

    @Test
    void stories260kLogitsAgreeWithJavaBackend() {
        Model m = ArchitectureBuilders.ensureGraph(RuntimeTestModels.stories());
        long[][] seq = {{1, 403, 407, 261, 378, 395, 416, 280}};
        float[][][] a, b;
        try (Generator g = new Generator(m, new JavaBackend())) {
            a = g.logits(seq, ExecutionListener.NONE);
        }
        try (Generator g = new Generator(m, new TorchBackend("cpu"))) {
            b = g.logits(seq, ExecutionListener.NONE);
        }
        double maxDiff = 0;
        for (int t = 0; t < a[0].length; t++) for (int v = 0; v < a[0][t].length; v++) maxDiff = Math.max(maxDiff, Math.abs(a[0][t][v] - b[0][t][v]));
        System.err.printf("torch:cpu vs java on stories260K: max |Δ logit| %.3g%n", maxDiff);
        assertTrue(maxDiff < 1e-3, "max |Δ| " + maxDiff);
    }

    @Test
    void cudaWithoutGpuSaysSoClearly() {
        assumeTrue(Engine.getEngine("PyTorch").getGpuCount() == 0, "a GPU is present: nothing to refuse");
        UnsupportedModelException e = assertThrows(UnsupportedModelException.class,
                () -> new TorchBackend("cuda").open(RuntimeTestModels.miniLm()));
        assertTrue(e.getMessage().contains("CUDA"), e.getMessage());
    }
}
